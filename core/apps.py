from django.apps import AppConfig
from django.core.signals import got_request_exception


class CoreConfig(AppConfig):
    """The ground floor: base model, clinic dates, application errors, the API's base classes."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core.middleware import flag_database_unavailable

        got_request_exception.connect(flag_database_unavailable, dispatch_uid="core.db_down")
