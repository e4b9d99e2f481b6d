"""`manage.py add_user USERNAME --role ROLE`: password from standard input, or generated."""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import Role
from accounts.services import generate_password, user_create
from audit.context import audit_channel
from audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Create a user with one role. The password is read from standard input when it is "
        "piped in; otherwise one is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, email, **options):
        password = ""
        if not sys.stdin.isatty():
            password = sys.stdin.readline().strip()
        generated = not password
        if generated:
            password = generate_password()
        try:
            with audit_channel(AuditEvent.Channel.CLI):
                user_create(username=username, role=role, password=password, email=email)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Created user {username} with role {role}.")
        if generated:
            self.stdout.write(f"Password (shown once): {password}")
