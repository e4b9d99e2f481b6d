"""Roles, login, throttling, idle sessions, the role-aware home page."""

import pytest
from django.conf import settings

from accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "expected_status", "expected"),
    [
        (Role.NURSE, 302, "/worklist/"),
        (Role.ONCOLOGIST, 302, "/alerts/"),
        (Role.ADMIN, 200, "Administration"),
        (Role.LAB, 200, "Lab results"),
    ],
)
def test_home_depends_on_role(client, role, expected_status, expected):
    client.force_login(UserFactory(role=role))
    response = client.get("/")
    assert response.status_code == expected_status
    if expected_status == 302:
        assert response.url == expected
    else:
        assert expected in response.content.decode()


def test_login_and_logout(client):
    UserFactory(username="nina", role=Role.NURSE)
    response = client.post(
        "/accounts/login/", {"username": "nina", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response.url == "/"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/patients/").status_code == 302


def test_failed_logins_are_throttled(client):
    UserFactory(username="nina", role=Role.NURSE)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nina", "password": "wrong"})
    # Locked out: even the right password is refused for the cool-off period.
    response = client.post(
        "/accounts/login/", {"username": "nina", "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_idle_sessions_expire_and_activity_extends_them(client):
    """30 idle minutes end the session; activity pushes the expiry forward (at most once a
    minute, to spare a session write on every page)."""
    import time_machine
    from django.contrib.sessions.models import Session

    assert settings.SESSION_COOKIE_AGE == 30 * 60
    UserFactory(username="idle", role=Role.NURSE)
    with time_machine.travel("2026-11-24 09:00:00+00:00", tick=False) as clock:
        client.post("/accounts/login/", {"username": "idle", "password": "correct-horse-battery"})
        clock.shift(20 * 60)
        assert client.get("/worklist/").status_code == 200  # active: expiry moves to 09:50
        session = Session.objects.get()
        assert session.expire_date.isoformat() == "2026-11-24T09:50:00+00:00"
        clock.shift(29 * 60)
        assert client.get("/worklist/").status_code == 200  # 29 idle minutes: still in
        clock.shift(31 * 60)
        response = client.get("/worklist/")  # 31 idle minutes: logged out
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_nurse_cannot_reach_admin_pages(client):
    client.force_login(UserFactory(role=Role.NURSE))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert client.get("/admin/audit/auditevent/").status_code == 302


def test_admin_browses_and_filters_audit_trail(client, patient):
    client.force_login(UserFactory(role=Role.ADMIN))
    client.get(f"/patients/{patient.pk}/")
    response = client.get(f"/admin/audit/auditevent/?action=patient.view&q={patient.pk}")
    assert response.status_code == 200
    assert "patient.view" in response.content.decode()


def test_user_without_role_sees_explanation(client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("norole", password="x-very-long-password")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "No role assigned" in response.content.decode()
