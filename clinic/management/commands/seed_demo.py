"""`manage.py seed_demo [--if-empty]`: demo users (one per role) and a synthetic cohort."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.context import audit_channel
from clinic.demo import DEMO_USERS, build_demo
from patients.models import Patient
from patients.services import clinic_today


class Command(BaseCommand):
    help = "Create demo users and a synthetic demo cohort (development machines only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any patient exists."
        )
        parser.add_argument("--size", type=int, default=240, help="Number of patients.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow seeding with DEBUG off (never in production).",
        )

    def handle(self, *args, if_empty, size, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo users with known passwords while DEBUG is off. "
                "Use --force on a non-production machine."
            )
        if if_empty and Patient.objects.exists():
            self.stdout.write("Demo data already present: nothing seeded.")
            self._print_logins()
            return
        with audit_channel("cli"):
            demo = build_demo(today=clinic_today(), seed=seed, size=size)
        self.stdout.write(f"Seeded {len(demo.patients)} demo patients.")
        self._print_logins()

    def _print_logins(self):
        from clinic.demo import demo_password

        self.stdout.write("Demo logins (username / password):")
        for username, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {role:<11} {username:<12} {demo_password(username)}")
