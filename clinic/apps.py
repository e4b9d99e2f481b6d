from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The top floor: workflows that span apps, the clinic's pages, dashboard, timeline, demo."""

    name = "clinic"
    verbose_name = "Clinic"
