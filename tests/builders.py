"""Builders shared by several test modules: payloads, draws, cohorts, a browser login.

Fixtures stay in conftest files; anything a test module imports lives here, so no test
module imports another module's conftest.
"""

from __future__ import annotations

import copy
import datetime as dt
import zoneinfo
from decimal import Decimal

import time_machine

from liquidbiopsy.models import LabReport, VariantCall
from patients import scheduling
from patients.models import Draw
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.models import Alert

LONDON = zoneinfo.ZoneInfo("Europe/London")
URL = "/api/v1/reports/"
D = dt.date


# --- Lab reports -------------------------------------------------------------------------


def payload(**overrides):
    body = {
        "report_id": "G360-2026-000123",
        "version": 1,
        "status": "final",
        "accession": "ACC-000123",
        "patient": {"mrn": "MRN-0001", "date_of_birth": "1961-04-02"},
        "collected_on": "2026-11-02",
        "reported_on": "2026-11-10",
        "assay": "Guardant360 CDx",
        "qc_status": "pass",
        "tumor_fraction": 0.012,
        "variants": [
            {
                "gene": "ESR1",
                "hgvs_p": "p.Asp538Gly",
                "hgvs_c": "c.1613A>G",
                "transcript": "NM_000125.4",
                "genome_build": "GRCh38",
                "chrom": "6",
                "pos": 152098791,
                "ref": "A",
                "alt": "G",
                "vaf_percent": 0.42,
                "depth": 15000,
            }
        ],
    }
    body.update(overrides)
    return body


def variant(**overrides):
    base = copy.deepcopy(payload()["variants"][0])
    base.update(overrides)
    return {k: val for k, val in base.items() if val is not None}


def counts():
    return (LabReport.objects.count(), VariantCall.objects.count(), Draw.objects.count())


# --- Draws ---------------------------------------------------------------------------------


def collect(patient, accession: str, day: dt.date, nurse) -> Draw:
    with time_machine.travel(dt.datetime.combine(day, dt.time(9), LONDON), tick=False):
        scheduling.draws_plan(patient_ids=[patient.pk])
        draw = Draw.objects.get(patient=patient, state="scheduled")
        scheduling.draw_collect(
            draw=draw,
            collected_at=dt.datetime.combine(day, dt.time(8, 30), LONDON),
            accession=accession,
            acting_user=nurse,
        )
    draw.refresh_from_db()
    return draw


def make_draw(patient, due: dt.date, **extra) -> Draw:
    opens, closes = due - dt.timedelta(days=7), due + dt.timedelta(days=7)
    return Draw.objects.create(
        patient=patient,
        planned_on=due,
        due_on=due,
        window_opens_on=opens,
        window_closes_on=closes,
        **extra,
    )


# --- A hand-built cohort whose metrics are known ---------------------------------------------


def draw(patient, due, collected=None, state="resulted", n=[0]):  # noqa: B006 - a counter
    n[0] += 1
    return Draw.objects.create(
        patient=patient,
        planned_on=due,
        due_on=due,
        window_opens_on=due - dt.timedelta(days=7),
        window_closes_on=due + dt.timedelta(days=7),
        state=state,
        collected_on=collected,
        collected_at=dt.datetime.combine(collected, dt.time(9), LONDON) if collected else None,
        accession=f"M-{n[0]}" if collected else None,
        reason_code="did_not_attend" if state == "missed" else "",
    )


def report(d, lab, esr1_vaf=None, qc="pass"):
    r = LabReport.objects.create(
        lab_account=lab,
        report_id=f"R-{d.pk}",
        version=1,
        status="final",
        draw=d,
        patient=d.patient,
        assay="G360",
        qc_status=qc,
        collected_on=d.collected_on,
        reported_on=d.collected_on,
        payload={},
        payload_sha256="x",
        received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    if esr1_vaf:
        VariantCall.objects.create(
            report=r, gene="ESR1", hgvs_p="p.Asp538Gly", vaf=Decimal(esr1_vaf)
        )
    return r


def metrics_cohort(oncologist):
    """Three patients whose cohort metrics are known by hand (tests/test_metrics.py)."""
    lab = UserFactory(username="m_lab", role="lab")
    a = PatientFactory(oncologist=oncologist)  # ESR1 on the first tested draw
    b = PatientFactory(
        oncologist=oncologist
    )  # ESR1 emerges on the second; progresses 60 days later
    c = PatientFactory(oncologist=oncologist, surveillance_state="progressed")  # never ESR1
    # January: 3 draws due, 2 in window (one collected late, one in window), one missed.
    report(draw(a, D(2026, 1, 10), D(2026, 1, 12)), lab, esr1_vaf="0.01")
    report(draw(b, D(2026, 1, 12), D(2026, 1, 30)), lab)  # late: outside the window
    draw(c, D(2026, 1, 15), state="missed")
    # March: 2 draws due, both in window.
    report(draw(b, D(2026, 3, 10), D(2026, 3, 10)), lab, esr1_vaf="0.02")
    report(draw(c, D(2026, 3, 12), D(2026, 3, 13)), lab)
    ScanFactory(patient=b, performed_on=D(2026, 5, 9), outcome="progression")
    t0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)
    for patient, kind, state, decision, reason, hours, level in [
        (a, "switch_recommended", "accepted", "switch", "", 10, 0),
        (b, "switch_recommended", "declined", "decline", "patient_preference", 30, 0),
        (c, "review", "open", "", "", None, 1),
    ]:
        Alert.objects.create(
            patient=patient,
            kind=kind,
            state=state,
            decision=decision,
            reason_code=reason,
            rule_version="serena6-v1",
            facts_snapshot={},
            opened_at=t0,
            escalation_level=level,
            decided_at=t0 + dt.timedelta(hours=hours) if hours else None,
        )
    # Built below the workflows (factories): refresh the dashboard's per-patient dates as
    # report_receive and scan_receive do.
    from clinic.cohort import cohort_refresh

    cohort_refresh([a.pk, b.pk, c.pk])
    return a, b, c


# --- Browser ---------------------------------------------------------------------------------


def login(page, username: str, password: str = "correct-horse-battery") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


# --- Scenario helpers over the REST API (alerts) ---------------------------------------------


def post_report(api, body):
    """POST one lab report; it must be stored (201) or be an identical re-send (200)."""
    response = api.post(URL, body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def ack(api, alert, **body):
    return api.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", body, format="json")


def later_report(patient, nurse, accession="ACC-000124", day=dt.date(2026, 11, 20), **extra):
    """A second draw collected on `day` and the payload of its report."""
    collect(patient, accession, day, nurse)
    return payload(
        report_id=f"R-{accession}",
        accession=accession,
        collected_on=day.isoformat(),
        reported_on=(day + dt.timedelta(days=2)).isoformat(),
        **extra,
    )


def pending(patient, kind=None):
    from therapy.models import Alert

    qs = Alert.objects.filter(patient=patient, state__in=Alert.PENDING_STATES)
    return qs.filter(kind=kind) if kind else qs


# --- Lab files ---------------------------------------------------------------------------------

UPLOAD_URL = "/api/v1/reports/upload/"
FILE_HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf_percent"
)
# One row each for `eligible` (tests/therapy/conftest.py) and `other`: a switch-level ESR1 call.
HER_ROW = (
    "F-1,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,Y537S,0.8"
)
OTHER_ROW = (
    "F-2,1,final,ACC-000200,MRN-0002,1970-01-01,2026-11-02,2026-11-10,G360,pass,ESR1,D538G,0.5"
)
# Her report corrected to `other` (a wrong-patient fix).
MOVED = {
    "version": 2,
    "status": "corrected",
    "accession": "ACC-000200",
    "patient": {"mrn": "MRN-0002", "date_of_birth": "1970-01-01"},
}


class WorkerDied(BaseException):
    """Stands for SIGKILL at that instant: nothing after it runs, no except clause sees it."""


def file_of(*rows: str) -> bytes:
    """A CSV file of FILE_HEADER and these rows."""
    return ("\n".join([FILE_HEADER, *rows]) + "\n").encode()


def queued_upload(api, settings, *rows: str):
    """The rows posted as a file that goes to the worker (202): its Upload, still queued."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from liquidbiopsy.models import Upload

    settings.UPLOAD_SYNC_MAX_ROWS = 1
    response = api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile("f.csv", file_of(*rows))}, format="multipart"
    )
    assert response.status_code == 202, response.content
    return Upload.objects.get()


def csv_of(*bodies) -> bytes:
    """JSON payloads as the lab's CSV: one row per variant call, report fields repeated, a row
    with an empty gene for a report without variants."""
    import csv
    import io

    from liquidbiopsy.parsers import CSV_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for body in bodies:
        report = {k: v for k, v in body.items() if k not in ("patient", "variants")}
        report["mrn"] = body["patient"]["mrn"]
        report["date_of_birth"] = body["patient"]["date_of_birth"]
        for v in body.get("variants") or [{}]:
            writer.writerow({**report, **v})
    return out.getvalue().encode()


def send_file(api, *bodies, name="f.csv"):
    """The payloads posted as one CSV file (answered at once when small)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post(
        UPLOAD_URL, {"file": SimpleUploadedFile(name, csv_of(*bodies))}, format="multipart"
    )


def stale_upload(lab_user, state="queued", **ages):
    """An upload row of a one-line CSV in `state`, with its timestamps moved back by `ages`
    (updated_at=timedelta(minutes=30), created_at=..., first_claimed_at=...)."""
    from django.utils import timezone

    from liquidbiopsy.models import Upload

    upload = Upload.objects.create(
        uploaded_by=lab_user,
        filename="f.csv",
        file_format="csv",
        content=b"report_id\n",
        content_sha256="x",
        state=state,
    )
    now = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(**{field: now - age for field, age in ages.items()})
    return upload


def eligible_patient(tag: str, oncologist, nurse):
    """A patient eligible for a switch (letrozole + palbociclib since 2 Nov 2025, a clear scan
    on 20 Oct 2026, ACC-{tag} collected 2 Nov 2026), and the report fields that name her draw."""
    patient = PatientFactory(
        mrn=f"MRN-{tag}",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=dt.date(2025, 11, 2),
    )
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20), outcome="no_progression")
    collect(patient, f"ACC-{tag}", dt.date(2026, 11, 2), nurse)
    return patient, {
        "report_id": f"G360-{tag}",
        "accession": f"ACC-{tag}",
        "patient": {"mrn": f"MRN-{tag}", "date_of_birth": "1961-04-02"},
    }


def flagged_switch(patient, lab_api, oncologist_api) -> Alert:
    """Her D538G report opens a switch alert, the oncologist switches, then the lab cancels
    the report: the accepted alert is flagged for review."""
    post_report(lab_api, payload())
    (alert,) = pending(patient)
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 200
    )
    post_report(lab_api, payload(version=2, status="cancelled", variants=[]))
    alert.refresh_from_db()
    assert alert.flagged_for_review
    return alert
