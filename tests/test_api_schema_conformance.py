"""Schemathesis against our own OpenAPI schema, as a lab account and as a clinician.

Every operation is called with data generated from the schema; the answer must never be a
5xx, and its status code, content type, headers and body must be what the schema documents.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.roles import Role
from accounts.services import api_token_issue
from tests.factories import PatientFactory, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def _keep_test_connection():
    """Called directly, the WSGI app closes the database connection after each request (as
    in production); inside a test transaction it must stay open, as Django's test client
    arranges."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, _keep_test_connection):
    onc = UserFactory(username="dr_schema", role=Role.ONCOLOGIST)
    PatientFactory(oncologist=onc)  # something for the list and detail calls to find
    return {
        "lab": api_token_issue(username=UserFactory(username="lab_schema", role=Role.LAB).username),
        "nurse": api_token_issue(
            username=UserFactory(username="nurse_schema", role=Role.NURSE).username
        ),
    }


@pytest.mark.parametrize("role", ["lab", "nurse"])
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, role, tokens):
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)
