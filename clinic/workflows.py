"""Workflows that span apps, so that no app has to call one above it.

Every event that can change a patient's alerts (DESIGN §5) is a workflow here: the app's own
service makes the change, then `alerts_reconcile` makes the affected patients' alerts match
all current evidence, in the same transaction and under the patients' row locks:
- a report stored, amended, corrected, cancelled or moved (both patients of a moved report);
- a scan; a regimen started (or ended for progression); a state change by hand;
- the planner making patients active.
A lab file's reports are stored in one transaction that also records the reconciles owed; a
worker pays them (therapy.owed), and a beat entry is the safety net.
Reports and scans also refresh the dashboard's per-patient dates (`clinic.cohort`) in the
same transaction; its draw and patient sums are kept by database triggers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from clinic.cohort import cohort_refresh
from core.queue import enqueue_on_commit
from liquidbiopsy import uploads
from liquidbiopsy.models import LabReport, Upload
from liquidbiopsy.services import report_ingest
from patients import services as patient_services
from patients.scheduling import draws_plan
from therapy.owed import reconcile_owed_add
from therapy.reconcile import alerts_reconcile, patients_of_report_chain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportReceipt:
    report: LabReport
    created: bool
    alerts: list = field(default_factory=list)


@transaction.atomic
def report_receive(*, payload: dict, lab_account, upload=None) -> ReportReceipt:
    """Store one report version and reconcile the alerts of every patient its chain touches,
    in one transaction; the answer lists the alerts of the report's patient it changed."""
    result = report_ingest(payload=payload, lab_account=lab_account, upload=upload)
    report = result.report
    if result.created:
        # Every patient a version of the chain belongs to (a report moved to another patient
        # changes both); a first version has only hers, and the query is saved.
        chain = (
            [report.patient_id]
            if result.first_of_chain
            else patients_of_report_chain(
                lab_account_id=report.lab_account_id, report_id=report.report_id
            )
        )
        touched = alerts_reconcile(chain, acting_user=None)
        cohort_refresh(chain)  # the dashboard's ESR1 dates (clinic.cohort)
        alerts = [a for a in touched if a.patient_id == report.patient_id]
    else:
        # An identical re-send raised and updated nothing, so it lists no alert: the alerts'
        # states now (an oncologist's decision since) are not the lab's to learn.
        alerts = []
    return ReportReceipt(report=report, created=result.created, alerts=alerts)


# --- Files of reports (CSV or VCF) ------------------------------------------------------------
# The pipeline (claim, parse, progress, bulk store) is liquidbiopsy.uploads; what stays here
# is the step above it: then reconcile the alerts of the patients whose reports were stored.

UploadRefused = uploads.UploadRefused


def upload_run(*, upload: Upload) -> Upload:
    """Process one file (liquidbiopsy.uploads), then evaluate its reports in a worker."""
    return uploads.upload_process(upload=upload, then=_evaluate_later)


def _evaluate_later(report_ids: list[int]) -> None:
    """The alerts of a file's patients are reconciled by a worker: the debt is recorded here,
    in the storing transaction, and the task is only a nudge (the beat entry pays it too)."""
    from therapy.tasks import alerts_reconcile_owed

    chains = LabReport.objects.filter(pk__in=report_ids).values("lab_account_id", "report_id")
    patient_ids = set(
        LabReport.objects.filter(
            Q(pk__in=report_ids)
            | Q(
                lab_account_id__in=chains.values("lab_account_id"),
                report_id__in=chains.values("report_id"),
            )
        ).values_list("patient_id", flat=True)
    )
    if not patient_ids:
        return
    # cohort_refresh locks the patients' rows (id order) before the debt is recorded: a worker
    # reconciling one of them holds her row, so this waits for it to commit (its claimed owed
    # row deleted) and then records a debt of its own. Recorded first, the debt would merge
    # into the row the worker is about to delete, and her new report would never be
    # reconciled (tests/therapy/test_upload_atomic.py).
    cohort_refresh(patient_ids)  # the dashboard's ESR1 dates, set-based, in this transaction
    reconcile_owed_add(patient_ids=patient_ids)
    enqueue_on_commit(alerts_reconcile_owed)  # a nudge: the owed rows are the record


def upload_receive(*, filename: str, data: bytes, lab_account) -> Upload:
    """Record an uploaded file; small files are processed now, larger ones by a worker."""
    upload = uploads.upload_create(filename=filename, data=data, lab_account=lab_account)
    if uploads.upload_runs_now(upload):
        return upload_run(upload=upload)
    from clinic.tasks import upload_process as upload_process_task

    enqueue_on_commit(upload_process_task, upload.pk)  # lost? the uploads sweep re-queues it
    return upload


# --- Scans ------------------------------------------------------------------------------------


@transaction.atomic
def scan_receive(*, patient, performed_on, modality, outcome, note="", acting_user):
    """Record a scan, then reconcile the patient's alerts (progression takes over; a clear
    scan can lift the need for confirmatory imaging)."""
    scan = patient_services.scan_record(
        patient=patient,
        performed_on=performed_on,
        modality=modality,
        outcome=outcome,
        note=note,
        acting_user=acting_user,
    )
    alerts = alerts_reconcile([patient.pk], acting_user=acting_user)
    cohort_refresh([patient.pk])  # the dashboard's lead time (clinic.cohort)
    return scan, alerts


@transaction.atomic
def regimen_receive(*, patient, acting_user, **regimen):
    """Start a regimen (ending the current one, perhaps for progression), then reconcile."""
    started = patient_services.regimen_start(patient=patient, acting_user=acting_user, **regimen)
    alerts_reconcile([patient.pk], acting_user=acting_user)
    return started


@transaction.atomic
def patient_change(*, patient, acting_user, changes):
    """Change a patient's surveillance settings or state by hand, then reconcile her alerts
    (deceased or withdrawn withdraws them; resuming may raise them)."""
    changed = patient_services.patient_update(
        patient=patient, acting_user=acting_user, changes=changes
    )
    alerts_reconcile([patient.pk], acting_user=acting_user)
    return changed


@transaction.atomic
def draws_plan_and_reconcile(**kwargs):
    """The planner, then the alerts of the patients it made active (their earlier results are
    judged again now that surveillance is active)."""
    result = draws_plan(**kwargs)
    if result.activated_ids:
        alerts_reconcile(result.activated_ids, acting_user=kwargs.get("acting_user"))
    return result
