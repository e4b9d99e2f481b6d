"""`add_user` and `issue_api_token` as DESIGN.md §6 names them, run as real processes."""

import io
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.roles import user_roles
from audit.models import AuditEvent
from tests.utils import child_env

pytestmark = pytest.mark.django_db


def test_add_user_reads_password_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-secret-pw\n"))
    out = io.StringIO()
    call_command("add_user", "lims1", "--role", "lab", stdout=out)
    user = get_user_model().objects.get(username="lims1")
    assert user.check_password("a-long-secret-pw")
    assert user_roles(user) == {"lab"}
    assert not user.is_staff
    assert "Password" not in out.getvalue()  # nothing to show: the caller chose it
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_add_user_generates_and_prints_password_once(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    out = io.StringIO()
    call_command("add_user", "boss", "--role", "admin", stdout=out)
    password = out.getvalue().split("Password (shown once): ")[1].strip()
    user = get_user_model().objects.get(username="boss")
    assert user.check_password(password)
    assert user.is_staff
    assert user.is_superuser


def test_add_user_refuses_duplicate_and_unknown_role(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-long-enough\n"))
    call_command("add_user", "dup", "--role", "nurse", stdout=io.StringIO())
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-long-enough\n"))
    with pytest.raises(CommandError, match="already exists"):
        call_command("add_user", "dup", "--role", "nurse", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("add_user", "x", "--role", "surgeon", stdout=io.StringIO())


def test_issued_token_is_printed_alone_stored_hashed_and_works(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw-long-enough\n"))
    call_command("add_user", "lims2", "--role", "lab", stdout=io.StringIO())
    out = io.StringIO()
    call_command("issue_api_token", "lims2", stdout=out)
    token = out.getvalue().strip()
    assert len(token) == 64
    assert "\n" not in token
    stored = AuthToken.objects.get(user__username="lims2")
    assert token not in (stored.digest, stored.token_key)  # only a hash and a prefix
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    # Authenticated (not 401) but a lab may not read patients (403).
    assert client.get("/api/v1/patients/").status_code == 403


def test_issue_token_for_unknown_user_fails():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("issue_api_token", "ghost", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_commands_work_as_processes():
    """As the acceptance client runs them: piped password in, the token alone on stdout."""
    env = child_env()
    created = subprocess.run(
        [sys.executable, "manage.py", "add_user", "proc_lab", "--role", "lab"],
        input="proc-secret-pw\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    token = subprocess.run(
        [sys.executable, "manage.py", "issue_api_token", "proc_lab"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout.strip()
    assert len(token) == 64
    assert get_user_model().objects.get(username="proc_lab").check_password("proc-secret-pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/patients/").status_code == 403
