from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from audit.privileges import grant_after_migrate

        # Once per migrate run (sender: this app), after every app's migrations.
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="audit.grants")
