"""Storing lab reports: validated, idempotent, versioned, with their effect on the draw.

`report_ingest` is one transaction:
1. validate the payload (every error at once: 400);
2. lock the report's current version, so versions of one report are stored one at a time;
3. idempotency: the same (lab account, report_id, version) with the same content returns
   the stored report (200); with different content it is a conflict (409);
4. match the accession to a collected draw of the patient named by MRN and date of birth
   (422 naming what does not match);
5. store the version and its variants; a higher version supersedes the current one (kept);
6. the draw follows: resulted (QC pass), failed with a redraw (QC fail/insufficient), or
   back to awaiting a result when the report is cancelled.
Concurrent identical posts: the unique key lets one insert win; the others find it and
answer 200, never 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.clock import clinic_today
from core.exceptions import Conflict, Mismatch
from liquidbiopsy.models import LabReport, VariantCall
from liquidbiopsy.validation import CleanReport, validate_report
from patients import scheduling
from patients.models import Draw

KEY_CONFLICT = (
    "Report {report_id} version {version} was already received with different content. "
    "Send changes as a higher version (status amended or corrected)."
)
OLDER_VERSION = (
    "Report {report_id} version {version} is older than the version already received "
    "({current}); send a higher version."
)
NO_SUCH_ACCESSION = "No collected draw has accession '{accession}'."
DRAW_NOT_COLLECTED = "The draw with accession '{accession}' is {state}, not collected."
MRN_MISMATCH = "The MRN does not match the patient of accession '{accession}'."
DOB_MISMATCH = "The date of birth does not match the patient of accession '{accession}'."
MATCH_FAILED = "The report does not match the draw on record: see extra.fields."
RECEIVABLE_DRAW_STATES = (Draw.State.COLLECTED, Draw.State.RESULTED, Draw.State.FAILED)


@dataclass(frozen=True)
class IngestResult:
    report: LabReport
    created: bool  # False: an identical re-send, nothing changed


def variant_calls(report: LabReport, variants) -> list[VariantCall]:
    """VariantCall rows for a report from its validated variants."""
    return [
        VariantCall(
            report=report,
            gene=v.gene,
            hgvs_p=v.hgvs_p,
            hgvs_c=v.hgvs_c,
            transcript=v.transcript,
            genome_build=v.genome_build,
            chrom=v.chrom,
            pos=v.pos,
            ref=v.ref,
            alt=v.alt,
            vaf=v.vaf,
            depth=v.depth,
        )
        for v in variants
    ]


def payload_digest(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _match_draw(clean: CleanReport) -> Draw:
    draw = Draw.objects.select_related("patient").filter(accession=clean.accession).first()
    fields: dict[str, list[str]] = {}
    if draw is None:
        fields["accession"] = [NO_SUCH_ACCESSION.format(accession=clean.accession)]
    else:
        if draw.state not in RECEIVABLE_DRAW_STATES:
            fields["accession"] = [
                DRAW_NOT_COLLECTED.format(accession=clean.accession, state=draw.state)
            ]
        if draw.patient.mrn != clean.mrn:
            fields["patient.mrn"] = [MRN_MISMATCH.format(accession=clean.accession)]
        if draw.patient.date_of_birth != clean.date_of_birth:
            fields["patient.date_of_birth"] = [DOB_MISMATCH.format(accession=clean.accession)]
    if fields:
        raise Mismatch(MATCH_FAILED, extra={"fields": fields})
    return draw


def _existing(lab_account, clean: CleanReport, digest: str) -> IngestResult | None:
    stored = LabReport.objects.filter(
        lab_account=lab_account, report_id=clean.report_id, version=clean.version
    ).first()
    if stored is None:
        return None
    if stored.payload_sha256 != digest:
        raise Conflict(KEY_CONFLICT.format(report_id=clean.report_id, version=clean.version))
    return IngestResult(report=stored, created=False)


def _apply_to_draw(report: LabReport, draw: Draw, lab_account) -> None:
    if report.status == LabReport.Status.CANCELLED:
        still_reported = LabReport.objects.filter(
            draw=draw, is_current=True, qc_status=LabReport.QcStatus.PASS
        ).exclude(status=LabReport.Status.CANCELLED)
        if not still_reported.exists():
            scheduling.draw_mark_awaiting_result(draw=draw, acting_user=lab_account)
    elif report.qc_status == LabReport.QcStatus.PASS:
        scheduling.draw_mark_resulted(draw=draw, acting_user=lab_account)
    elif draw.state in (Draw.State.COLLECTED, Draw.State.RESULTED):
        scheduling.draw_mark_failed(draw=draw, reason=report.qc_status, acting_user=lab_account)


@transaction.atomic
def report_ingest(
    *, payload: dict, lab_account, upload=None, today: dt.date | None = None
) -> IngestResult:
    """Validate and store one report version; see the module docstring for the steps."""
    clean, errors = validate_report(payload, today=today or clinic_today())
    if errors:
        raise ValidationError(errors)
    digest = payload_digest(payload)

    current = (
        LabReport.objects.select_for_update()
        .filter(lab_account=lab_account, report_id=clean.report_id, is_current=True)
        .first()
    )
    existing = _existing(lab_account, clean, digest)
    if existing is not None:
        return existing
    if current is not None and clean.version < current.version:
        raise Conflict(
            OLDER_VERSION.format(
                report_id=clean.report_id, version=clean.version, current=current.version
            )
        )
    draw = _match_draw(clean)

    try:
        with transaction.atomic():  # a concurrent identical post may win the insert
            if current is not None:
                LabReport.objects.filter(pk=current.pk).update(is_current=False)
            report = LabReport.objects.create(
                lab_account=lab_account,
                report_id=clean.report_id,
                version=clean.version,
                status=clean.status,
                draw=draw,
                patient=draw.patient,
                upload=upload,
                assay=clean.assay,
                qc_status=clean.qc_status,
                tumor_fraction=clean.tumor_fraction,
                collected_on=clean.collected_on,
                reported_on=clean.reported_on,
                payload=payload,
                payload_sha256=digest,
                received_at=timezone.now(),
            )
    except IntegrityError:
        existing = _existing(lab_account, clean, digest)
        if existing is not None:
            return existing
        raise
    if current is not None:
        LabReport.objects.filter(pk=current.pk).update(superseded_by=report)
    VariantCall.objects.bulk_create(variant_calls(report, clean.variants))
    audit_record(
        action="report.store",
        acting_user=lab_account,
        obj=report,
        patient_id=draw.patient_id,
        detail={
            "report_id": clean.report_id,
            "version": clean.version,
            "status": clean.status,
            "qc_status": clean.qc_status,
            "variants": len(clean.variants),
            "supersedes": current.pk if current else None,
        },
    )
    _apply_to_draw(report, draw, lab_account)
    return IngestResult(report=report, created=True)
