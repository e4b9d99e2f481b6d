"""WSGI entry point for gunicorn (and runserver)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "surveillance.settings.base")

application = get_wsgi_application()

from core.runtime import process_ready  # noqa: E402 (Django must be set up first)

process_ready()
