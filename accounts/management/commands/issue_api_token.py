"""`manage.py issue_api_token USERNAME`: prints a new token, alone on standard output."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_issue
from audit.context import audit_channel
from audit.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Issue a new API token for a user and print it. Only its hash is stored, so it "
        "cannot be shown again. Clients send 'Authorization: Token <token>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            with audit_channel(AuditEvent.Channel.CLI):
                token = api_token_issue(username=username)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(token)
