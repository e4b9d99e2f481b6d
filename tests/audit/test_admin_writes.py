"""Writes made in the Django admin are in the audit trail as the services' writes are
(users, their roles, API tokens), and the admin refuses a lab account another role: a lab
service token must never reach patient records."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from knox.models import AuthToken

from accounts.roles import Role
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _change_user(client, user, groups):
    return client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "password": user.password,
            "is_active": "on",
            "groups": [g.pk for g in groups],
            "date_joined_0": "2026-11-01",
            "date_joined_1": "09:00:00",
            "initial-date_joined_0": "2026-11-01",
            "initial-date_joined_1": "09:00:00",
        },
    )


def test_a_role_changed_in_the_admin_is_audited(client, admin_user):
    client.force_login(admin_user)
    target = UserFactory(username="nina2", role=Role.NURSE)
    oncologist = Group.objects.get(name=Role.ONCOLOGIST)
    response = _change_user(client, target, [oncologist])
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="user.admin_change")
    assert event.actor_id == admin_user.pk
    assert event.object_id == str(target.pk)
    assert event.detail["roles"] == ["oncologist"]
    assert "Groups" in event.detail["fields"]


def test_the_admin_refuses_a_lab_account_a_second_role(client, admin_user):
    client.force_login(admin_user)
    lab = UserFactory(username="lims2", role=Role.LAB)
    groups = Group.objects.filter(name__in=[Role.LAB, Role.NURSE])
    response = _change_user(client, lab, list(groups))
    assert response.status_code == 200  # the form again, with the error
    assert "A lab account holds no other role" in response.content.decode()
    assert set(lab.groups.values_list("name", flat=True)) == {"lab"}
    assert not AuditEvent.objects.filter(action="user.admin_change").exists()


def test_a_token_issued_in_the_admin_is_audited_and_the_list_hides_digests(client, admin_user):
    client.force_login(admin_user)
    lab = UserFactory(username="lims3", role=Role.LAB)
    response = client.post("/admin/knox/authtoken/add/", {"user": lab.pk, "expiry": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    token = AuthToken.objects.get(user=lab)
    event = AuditEvent.objects.get(action="authtoken.admin_add")
    assert event.actor_id == admin_user.pk
    listing = client.get("/admin/knox/authtoken/").content.decode()
    assert "column-digest" not in listing  # the 128-character hash is no column
    assert "column-token_key" in listing
    assert f">{token.token_key}<" in listing
    assert "lims3" in listing
