"""Authentication under attack (issue 12 item 8): lockout behind a proxy, spraying,
distributed guessing, no sessions for token calls, the absolute session lifetime, the
settings a bare `manage.py`/wsgi/Celery start uses, and the audit of every event."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.utils import child_env

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
PROXY = "10.0.0.2"  # the TLS proxy's address: every request's socket peer behind it


def _login(client: Client, username: str, password: str, *, client_ip: str | None = None):
    headers = {"REMOTE_ADDR": PROXY}
    if client_ip is not None:
        headers["HTTP_X_FORWARDED_FOR"] = client_ip
    return client.post("/accounts/login/", {"username": username, "password": password}, **headers)


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_lockout_behind_proxy_locks_the_attacker_not_the_clinician():
    UserFactory(username="nina", role=Role.NURSE)
    attacker, nina = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(attacker, "nina", "guess", client_ip="198.51.100.7").status_code == 200
    # The failure that reaches the limit is answered as a lockout already.
    assert _login(attacker, "nina", "guess", client_ip="198.51.100.7").status_code == 429
    # The attacker is locked out, even with the right password...
    assert _login(attacker, "nina", PASSWORD, client_ip="198.51.100.7").status_code == 429
    # ...and cannot escape by forging the header: the proxy appends the real address.
    forged = "203.0.113.9, 198.51.100.7"
    assert _login(attacker, "nina", PASSWORD, client_ip=forged).status_code == 429
    # Nina, through the same proxy from her own address, logs in.
    response = _login(nina, "nina", PASSWORD, client_ip="203.0.113.9")
    assert response.status_code == 302
    assert "_auth_user_id" in nina.session
    lockouts = AuditEvent.objects.filter(action="auth.lockout")
    assert {e.detail["ip"] for e in lockouts} == {"198.51.100.7"}


def test_without_trusted_proxies_the_forwarded_header_is_ignored():
    UserFactory(username="nina", role=Role.NURSE)
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "nina", "guess", client_ip=f"198.51.100.{n + 1}")
    # Every attempt came from the socket address: rotating the header bought nothing.
    assert _login(client, "nina", PASSWORD, client_ip="198.51.100.99").status_code == 429


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_password_spraying_from_one_address_is_stopped():
    limit = settings.LOGIN_IP_FAILURE_LIMIT
    UserFactory(username="victim", role=Role.ONCOLOGIST)
    sprayer = Client()
    for n in range(limit):  # one guess on each of many accounts: no account reaches 5
        _login(sprayer, f"user{n}", "Winter2026!", client_ip="198.51.100.7")
    # The address is now refused outright, even for a right password on a fresh account.
    assert _login(sprayer, "victim", PASSWORD, client_ip="198.51.100.7").status_code == 429
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == limit + 1
    # Another client behind the same proxy is not affected.
    assert _login(Client(), "victim", PASSWORD, client_ip="203.0.113.9").status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1, LOGIN_USERNAME_FAILURE_LIMIT=12)
def test_distributed_guessing_of_one_account_is_stopped():
    UserFactory(username="nina", role=Role.NURSE)
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):  # each address stays below 5
            _login(Client(), "nina", "guess", client_ip=address)
    assert _login(Client(), "nina", PASSWORD, client_ip="198.51.100.4").status_code == 429


def test_login_logout_and_failures_are_audited():
    user = UserFactory(username="nina", role=Role.NURSE)
    client = Client()
    _login(client, "nina", "wrong-password")
    _login(client, "nina", PASSWORD)
    client.post("/accounts/logout/")
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor_id", "channel"))
    assert events == [
        ("auth.login_failed", None, "web"),
        ("auth.login", user.pk, "web"),
        ("auth.logout", user.pk, "web"),
    ]
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.detail == {"username": "nina", "ip": PROXY}
    assert "wrong-password" not in str(failed.detail)


def test_token_requests_create_no_session_and_set_no_cookie(lab_token_api):
    for _ in range(3):
        response = lab_token_api.get("/api/v1/reports/")
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.count() == 0


def test_session_ends_at_its_absolute_lifetime_however_active():
    assert settings.SESSION_ABSOLUTE_TIMEOUT_HOURS == 12
    UserFactory(username="busy", role=Role.NURSE)
    client = Client()
    with time_machine.travel("2026-11-24 07:00:00+00:00", tick=False) as clock:
        assert _login(client, "busy", PASSWORD).status_code == 302
        for _ in range(35):  # a page every 20 minutes: never idle for 30
            clock.shift(20 * 60)
            assert client.get("/worklist/").status_code == 200
        clock.shift(19 * 60)  # 11 h 59 min after the log-in
        assert client.get("/worklist/").status_code == 200
        clock.shift(60)  # 12 h
        response = client.get("/worklist/")
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
        assert client.get("/worklist/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.session_expired").count() == 1


@override_settings(SESSION_ABSOLUTE_TIMEOUT_HOURS=1)
def test_absolute_lifetime_is_configurable():
    UserFactory(username="busy", role=Role.NURSE)
    client = Client()
    with time_machine.travel("2026-11-24 07:00:00+00:00", tick=False) as clock:
        _login(client, "busy", PASSWORD)
        for _ in range(2):
            clock.shift(25 * 60)
            assert client.get("/worklist/").status_code == 200
        clock.shift(10 * 60)
        assert client.get("/worklist/").status_code == 302


@pytest.mark.parametrize("password", ["abc", "password123", "12345678901", "nurse_nina1"])
def test_add_user_refuses_weak_passwords(monkeypatch, password):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    with pytest.raises(CommandError, match=r"password"):
        call_command("add_user", "nurse_nina", "--role", "nurse", stdout=io.StringIO())
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_cli_user_and_token_creation_are_audited_as_cli(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-secret-pw\n"))
    call_command("add_user", "lims9", "--role", "lab", stdout=io.StringIO())
    call_command("issue_api_token", "lims9", stdout=io.StringIO())
    channels = dict(
        AuditEvent.objects.filter(action__in=["user.create", "api_token.issue"]).values_list(
            "action", "channel"
        )
    )
    assert channels == {"user.create": "cli", "api_token.issue": "cli"}


@pytest.mark.parametrize(
    "entry",
    [
        [
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        ],
        [
            "-c",
            "import surveillance.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        ],
        [
            "-c",
            "import surveillance.celery; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)",
        ],
    ],
    ids=["manage.py", "wsgi", "celery"],
)
def test_entry_points_default_to_production_settings(entry):
    env = child_env(SECRET_KEY="x" * 50)
    env.pop("DJANGO_SETTINGS_MODULE")
    env.pop("DEBUG", None)
    done = subprocess.run(
        [sys.executable, *entry], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["surveillance.settings.base", "False"]
