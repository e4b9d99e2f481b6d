"""A lab system's API call authenticates its token with one read of the token table,
however many tokens its account holds; an expired token is refused and deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import api_token_issue

pytestmark = pytest.mark.django_db


def _token_reads(ctx) -> int:
    return sum('FROM "knox_authtoken"' in q["sql"] for q in ctx.captured_queries)


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_one_token_read_per_call_whatever_the_account_holds(lab_user):
    for _ in range(3):
        api_token_issue(username=lab_user.username)
    client = _client(api_token_issue(username=lab_user.username))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/draws/?accession=NOPE")
    assert response.status_code == 404, response.content  # authenticated: no such draw
    assert _token_reads(ctx) == 1


def test_an_expired_token_is_refused_and_deleted(lab_user):
    token = api_token_issue(username=lab_user.username)
    AuthToken.objects.filter(user=lab_user).update(expiry=timezone.now() - timedelta(seconds=1))
    response = _client(token).get("/api/v1/draws/?accession=NOPE")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(user=lab_user).exists()


def test_another_expired_token_does_not_refuse_a_valid_one(lab_user):
    api_token_issue(username=lab_user.username)
    AuthToken.objects.filter(user=lab_user).update(expiry=timezone.now() - timedelta(seconds=1))
    token = api_token_issue(username=lab_user.username)
    response = _client(token).get("/api/v1/draws/?accession=NOPE")
    assert response.status_code == 404, response.content  # authenticated: no such draw
    assert AuthToken.objects.filter(user=lab_user).count() == 2
