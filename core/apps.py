from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: base model, clinic dates, application errors, the API's base classes."""

    name = "core"
    verbose_name = "Core"
