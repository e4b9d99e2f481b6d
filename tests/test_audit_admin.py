"""The audit trail in the admin (issue 13): search by MRN, name or accession; the patient
linked; the detail readable, not raw JSON; a constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.services import audit_record
from patients.models import Draw
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
URL = "/admin/audit/auditevent/"


@pytest.fixture
def trail(nurse):
    mine = PatientFactory(mrn="MRN-AUD-1", family_name="Quill", given_name="Ada")
    other = PatientFactory(mrn="MRN-OTHER", family_name="Zed")
    Draw.objects.create(
        patient=mine,
        planned_on=dt.date(2026, 1, 5),
        due_on=dt.date(2026, 1, 5),
        window_opens_on=dt.date(2025, 12, 29),
        window_closes_on=dt.date(2026, 1, 12),
        state="collected",
        collected_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
        collected_on=dt.date(2026, 1, 5),
        accession="ACC-AUD-77",
    )
    audit_record(
        action="draw.collect",
        acting_user=nurse,
        patient_id=mine.pk,
        detail={"accession": "ACC-AUD-77", "on_time": True, "removed_draws": [3, 4]},
    )
    audit_record(action="patient.view", acting_user=nurse, patient_id=other.pk, detail={})
    return mine, other


@pytest.mark.parametrize("term", ["MRN-AUD-1", "mrn-aud-1", "Quill", "QUILL, Ada", "ACC-AUD-77"])
def test_search_by_mrn_name_or_accession_finds_the_patient(client, admin_user, trail, term):
    client.force_login(admin_user)
    html = client.get(URL, {"q": term}).content.decode()
    assert "draw.collect" in html
    assert "MRN-OTHER" not in html


def test_patient_is_linked_and_detail_is_readable(client, admin_user, trail):
    mine, _ = trail
    client.force_login(admin_user)
    html = client.get(URL).content.decode()
    assert f'href="/patients/{mine.pk}/"' in html
    assert "MRN-AUD-1 · QUILL, Ada" in html
    for part in ("accession: ACC-AUD-77", "on time: yes", "removed draws: 3, 4"):
        assert part in html  # (jsonb keeps its own key order)
    assert "{&quot;accession" not in html
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="draw.collect")
    page = client.get(f"{URL}{event.pk}/change/").content.decode()
    assert "<dt>On time</dt><dd>yes</dd>" in page


def test_audit_list_queries_do_not_grow_with_rows(client, admin_user, trail, nurse):
    client.force_login(admin_user)
    client.get(URL)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    for i in range(30):
        p = PatientFactory(mrn=f"MRN-BULK-{i}")
        audit_record(action="patient.view", acting_user=nurse, patient_id=p.pk, detail={"i": i})
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(small.captured_queries) == len(large.captured_queries)
