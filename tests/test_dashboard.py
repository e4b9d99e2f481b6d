"""The cohort dashboard and its exports: roles, content, audit, constant queries."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from clinic.cohort import cohort_refresh
from tests.builders import draw, metrics_cohort, report
from tests.factories import ScanFactory, bulk_patients
from therapy.models import Alert

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


def _grow(n, oncologists, lab, prefix):
    """`n` patients split between two oncologists, each with a draw in window, one late, one
    missed and an overdue open one, a report (ESR1 in every other), a progression scan and an
    alert: every figure has rows to read."""
    patients = []
    for k, onc in enumerate(oncologists):
        patients += bulk_patients(n // 2, onc, f"{prefix}{k}")
    for i, p in enumerate(patients):
        d = draw(p, dt.date(2026, 2, 10), dt.date(2026, 2, 11))
        draw(p, dt.date(2026, 4, 10), dt.date(2026, 4, 30))
        draw(p, dt.date(2026, 6, 10), state="missed")
        draw(p, dt.date(2026, 8, 10), state="scheduled")
        report(d, lab, esr1_vaf="0.01" if i % 2 else None)
        ScanFactory(patient=p, performed_on=dt.date(2026, 5, 1), outcome="progression")
        Alert.objects.create(
            patient=p,
            kind="switch_recommended",
            state="accepted" if i % 3 else "open",
            decision="switch" if i % 3 else "",
            rule_version="serena6-v2",
            facts_snapshot={},
            opened_at=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
            decided_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC) if i % 3 else None,
        )
    cohort_refresh([p.pk for p in patients])


def test_dashboard_query_count_is_the_same_at_10_and_200_patients_for_every_filter(
    client, oncologist, other_oncologist, lab_user
):
    """Every filter the page offers: the count does not grow with the cohort (issue 14)."""
    filters = [
        "",
        RANGE,
        f"{RANGE}&oncologist={oncologist.pk}",
        f"?oncologist={other_oncologist.pk}",
        "?from=2020-01-01&to=2026-12-31",
    ]
    client.force_login(oncologist)
    client.get("/dashboard/")

    def counts():
        out = []
        for query in filters:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(f"/dashboard/{query}").status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    _grow(10, [oncologist, other_oncologist], lab_user, "S")
    small = counts()
    _grow(190, [oncologist, other_oncologist], lab_user, "L")
    large = counts()
    html = client.get(f"/dashboard/{RANGE}").content.decode()
    assert 'id="chart-lead_time"' in html  # the large cohort draws every chart
    assert small == large
    assert max(large) <= 6, large  # session, user, oncologists, metrics, audit, badge
