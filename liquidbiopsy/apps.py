from django.apps import AppConfig


class LiquidBiopsyConfig(AppConfig):
    name = "liquidbiopsy"
    verbose_name = "Liquid biopsy: draws and lab reports"
