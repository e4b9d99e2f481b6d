"""The cohort dashboard and its exports: roles, content, audit, constant queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from tests.builders import metrics_cohort
from tests.factories import bulk_patients

pytestmark = pytest.mark.django_db
RANGE = "?from=2026-01-01&to=2026-12-31"


@pytest.fixture
def cohort(oncologist):
    return metrics_cohort(oncologist)


def test_dashboard_roles(client, nurse, lab_user, oncologist, admin_user):
    for user, code in ((nurse, 403), (lab_user, 403), (oncologist, 200), (admin_user, 200)):
        client.force_login(user)
        assert client.get("/dashboard/").status_code == code
        assert client.get("/dashboard/export/patients.csv").status_code == code


def test_dashboard_shows_the_numbers(client, oncologist, cohort):
    client.force_login(oncologist)
    html = client.get(f"/dashboard/{RANGE}").content.decode()
    assert "Draws collected inside the window, by month" in html
    assert "<td>Jan 2026</td><td>3</td><td>1</td><td>33.3</td>" in html
    assert "20.0</span> h median to decision" in html


def test_exports_are_csv_and_audited(client, oncologist, cohort):
    client.force_login(oncologist)
    response = client.get(f"/dashboard/export/adherence.csv{RANGE}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["draws_due"], r["collected_in_window"]) for r in rows] == [("3", "1"), ("2", "2")]
    patients = list(
        csv.DictReader(
            io.StringIO(client.get(f"/dashboard/export/patients.csv{RANGE}").content.decode())
        )
    )
    assert len(patients) == 3
    assert {
        "patient_id",
        "state",
        "endocrine_agent",
        "draws_collected",
        "esr1_reports",
        "switches",
        "declines",
    } <= set(patients[0])
    exports = AuditEvent.objects.filter(action="dashboard.export", actor=oncologist)
    assert sorted(e.detail["table"] for e in exports) == ["adherence", "patients"]
    assert client.get("/dashboard/export/secrets.csv").status_code == 404


def test_dashboard_query_count_is_the_same_at_10_and_1000_patients(client, oncologist):
    client.force_login(oncologist)
    client.get("/dashboard/")
    bulk_patients(10, oncologist, "S")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/dashboard/{RANGE}")
    bulk_patients(990, oncologist, "L")
    with CaptureQueriesContext(connection) as large:
        client.get(f"/dashboard/{RANGE}")
    assert len(small.captured_queries) == len(large.captured_queries) <= 14
