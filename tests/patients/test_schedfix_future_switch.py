"""A switch accepted to take effect ahead, and a progression scan before that day (DESIGN §3):
the regimen in force on the scan date (the AI, still taken) is the current one, so the
patient becomes `progressed` and drawing stops. The planned regimen is kept as recorded (a
clinical record; the oncologist decides the next line), and the audit event names it."""

import datetime as dt

import pytest
import time_machine

from audit.models import AuditEvent
from patients import rules
from patients.models import Draw, Regimen
from tests.builders import LONDON, collect, payload, pending, post_report
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.config import rule_config

D = dt.date


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture(autouse=True)
def _fresh_rule_config():
    rule_config.cache_clear()
    yield
    rule_config.cache_clear()


@pytest.fixture
def switched_ahead(oncologist, nurse, lab_token_api, oncologist_api):
    """On letrozole + palbociclib since 2 Nov 2025; a switch accepted on 24 Nov 2026 to take
    effect on 14 Dec 2026."""
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=D(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=D(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=D(2025, 11, 2))
    ScanFactory(patient=patient, performed_on=D(2026, 10, 20), outcome="no_progression")
    collect(patient, "ACC-000123", D(2026, 11, 2), nurse)
    post_report(lab_token_api, payload())
    alert = pending(patient).get()
    r = oncologist_api.post(
        f"/api/v1/alerts/{alert.pk}/acknowledge/",
        {"decision": "switch", "effective_on": "2026-12-14"},
        format="json",
    )
    assert r.status_code == 200, r.content
    patient.refresh_from_db()
    assert patient.surveillance_state == "post_switch"
    return patient


def scan(api, patient, day: str, outcome="progression"):
    r = api.post(
        f"/api/v1/patients/{patient.pk}/scans/",
        {"performed_on": day, "modality": "ct", "outcome": outcome},
        format="json",
    )
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_progression_before_a_future_switch_takes_effect_ends_surveillance(
    switched_ahead, oncologist_api
):
    body = scan(oncologist_api, switched_ahead, "2026-11-24")

    switched_ahead.refresh_from_db()
    assert switched_ahead.surveillance_state == "progressed"
    assert not Draw.objects.filter(patient=switched_ahead, state="scheduled").exists()
    # Nothing deleted: the AI regimen and the planned camizestrant are as recorded.
    regimens = list(
        Regimen.objects.filter(patient=switched_ahead)
        .order_by("started_on")
        .values_list("endocrine_agent", "started_on", "ended_on")
    )
    assert regimens == [
        ("letrozole", D(2025, 11, 2), D(2026, 12, 14)),
        ("camizestrant", D(2026, 12, 14), None),
    ]
    event = AuditEvent.objects.get(action="patient.progressed", patient_id=switched_ahead.pk)
    planned = Regimen.objects.get(patient=switched_ahead, endocrine_agent="camizestrant")
    assert event.detail["scan_id"] == body["id"]
    assert event.detail["planned_regimen_id"] == planned.pk


@pytest.mark.django_db
def test_a_scan_without_progression_before_the_switch_changes_nothing(
    switched_ahead, oncologist_api
):
    scan(oncologist_api, switched_ahead, "2026-11-24", outcome="no_progression")
    switched_ahead.refresh_from_db()
    assert switched_ahead.surveillance_state == "post_switch"
    assert Draw.objects.filter(patient=switched_ahead, state="scheduled").exists()


@pytest.mark.django_db
def test_once_the_switch_took_effect_a_late_scan_of_the_previous_line_does_not_progress(
    switched_ahead, oncologist_api
):
    """On camizestrant since 14 Dec: a scan dated 1 Dec (still on letrozole) recorded on
    20 Dec is not on the current regimen."""
    with time_machine.travel(dt.datetime(2026, 12, 20, 12, 0, tzinfo=LONDON), tick=False):
        scan(oncologist_api, switched_ahead, "2026-12-01")
        switched_ahead.refresh_from_db()
        assert switched_ahead.surveillance_state == "post_switch"
        scan(oncologist_api, switched_ahead, "2026-12-18")
        switched_ahead.refresh_from_db()
        assert switched_ahead.surveillance_state == "progressed"


def span(start, end=None, reason="", ai=True):
    return rules.RegimenSpan(start, end, reason, ai)


def test_line_in_force_on_a_day():
    letrozole = span(D(2025, 11, 2), D(2026, 12, 14), "ctdna_switch")
    camizestrant = span(D(2026, 12, 14), ai=False)
    regimens = [camizestrant, letrozole]
    assert rules.line_start_on(regimens, D(2026, 11, 24)) == D(2025, 11, 2)
    assert rules.line_start_on(regimens, D(2026, 12, 14)) == D(2026, 12, 14)
    assert rules.line_start_on(regimens, D(2025, 1, 1)) is None  # before any regimen
    # AI changes continue the line; a progression ends it.
    anastrozole = span(D(2025, 6, 1), D(2025, 11, 2), "new_regimen")
    assert rules.line_start_on([anastrozole, letrozole], D(2026, 1, 1)) == D(2025, 6, 1)
    progressed = span(D(2025, 6, 1), D(2025, 11, 2), "progression")
    assert rules.line_start_on([progressed, letrozole], D(2026, 1, 1)) == D(2025, 11, 2)
    # Off therapy: no regimen in force.
    assert rules.line_start_on([span(D(2025, 6, 1), D(2025, 11, 2))], D(2026, 1, 1)) is None
