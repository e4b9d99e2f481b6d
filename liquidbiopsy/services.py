"""Storing lab reports: validated, idempotent, versioned, with their effect on the draw.

`report_ingest` is one transaction:
1. validate the payload (every error at once: 400);
2. lock the report's current version, so versions of one report are stored one at a time;
3. idempotency: the same (lab account, report_id, version) with the same content returns
   the stored report (200); with different content it is a conflict (409);
4. match the accession to a draw of this lab (404 for an accession it may not report on,
   whether or not it exists), then the patient named by MRN and date of birth (422, one
   message that does not say which identifier failed), then the collection date (422 naming
   both dates, one day either way tolerated);
5. store the version and its variants (with their flags); a higher version supersedes the
   current one (kept);
6. the draw follows (patients.scheduling.draws_apply_results): resulted (QC pass; a redraw
   a corrected failure had scheduled is cancelled), failed with a redraw (QC fail or
   insufficient), or back to awaiting a result when the report is cancelled.
Concurrent identical posts: the unique key lets one insert win; the others find it and
answer 200, never 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.services import AuditRow, audit_bulk, audit_record
from core.clock import clinic_today
from core.db import AnyOf, Prepared
from core.exceptions import ApplicationError, Conflict, Mismatch
from liquidbiopsy.esr1 import Esr1Call, call_flags, load_allowlist
from liquidbiopsy.models import LabReport, VariantCall
from liquidbiopsy.validation import CleanReport, CleanVariant, validate_report
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
# One answer for an accession that does not exist and one sent to another lab: a lab cannot
# learn which accessions exist.
NO_SUCH_ACCESSION = "No draw with accession '{accession}' was sent to your lab."
DRAW_NOT_COLLECTED = "The draw with accession '{accession}' is {state}, not collected."
# One answer whichever identifier failed: no oracle for a date of birth or an MRN.
IDENTITY_MISMATCH = (
    "The patient identifiers do not match the draw with accession '{accession}'; "
    "check the MRN and the date of birth."
)
COLLECTED_ON_MISMATCH = (
    "collected_on {given} is not the draw's collection date {recorded} (clinic time; "
    "one day either way is accepted)."
)
MATCH_FAILED = "The report does not match the draw on record: see extra.fields."
RECEIVABLE_DRAW_STATES = (Draw.State.COLLECTED, Draw.State.RESULTED, Draw.State.FAILED)
COLLECTION_TOLERANCE = dt.timedelta(days=1)
MATCH_FAILED_ACTION = "report.match_failed"
# A file's failed matches past the account's allowance, none answered: audited, not counted.
MATCH_WITHHELD_ACTION = "report.match_failed_withheld"


class NotAssigned(ApplicationError):
    """The accession is not one this lab may report on (or does not exist): 404."""

    status_code = 404


@dataclass(frozen=True)
class IngestResult:
    report: LabReport
    created: bool  # False: an identical re-send, nothing changed
    # The chain's first version: no other version (nor another patient) is in the chain.
    first_of_chain: bool = False


def _flags(v: CleanVariant, allowlist) -> list[str]:
    key = (v.gene, v.hgvs_p, v.chrom, v.pos, v.ref, v.alt, v.genome_build, v.transcript)
    return list(_flags_of(allowlist, *key))


@lru_cache(maxsize=8192)
def _flags_of(allowlist, gene, hgvs_p, chrom, pos, ref, alt, genome_build, transcript):
    """A call's flags depend on what it names (not its allele fraction or depth): a file's
    recurring hotspots are matched once."""
    match = None
    if gene == "ESR1":
        match = allowlist.match(
            Esr1Call(
                hgvs_p=hgvs_p,
                vaf=Decimal(0),
                chrom=chrom,
                pos=pos,
                ref=ref,
                alt=alt,
                genome_build=genome_build,
                transcript=transcript,
            )
        )
    return tuple(call_flags(gene=gene, match=match))


def current_allowlist():
    return load_allowlist(
        str(settings.ESR1_ALLOWLIST_PATH), any_lbd_missense=settings.ESR1_ANY_LBD_MISSENSE
    )


def variant_rows(variants) -> list[tuple[CleanVariant, list[str]]]:
    """Each validated variant with the flags it is stored with."""
    allowlist = current_allowlist()
    return [(v, _flags(v, allowlist)) for v in variants]


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
            filter=v.filter,
            flags=flags,
        )
        for v, flags in variant_rows(variants)
    ]


def payload_json(payload: dict) -> str:
    """A payload's canonical JSON text (sorted keys, no spaces): what its digest hashes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def payload_digest(payload: dict | str) -> str:
    """The SHA-256 of a payload's canonical text (a dict, or its payload_json text)."""
    canonical = payload if isinstance(payload, str) else payload_json(payload)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class DrawFacts:
    """What matching needs of a draw, read as plain values (no model instances)."""

    pk: int
    state: str
    patient_id: int
    mrn: str
    date_of_birth: dt.date
    collected_on: dt.date | None
    lab: str


DRAW_FACT_FIELDS = (
    "accession",
    "pk",
    "state",
    "patient_id",
    "patient__mrn",
    "patient__date_of_birth",
    "collected_on",
    "lab",
)


# Built and compiled once (core.db.Prepared): the accessions and the account are its values.
_DRAWS_BY_ACCESSION = Prepared(
    lambda accessions, accounts: (
        Draw.objects.filter(AnyOf(F("accession"), accessions))
        .annotate(
            reported=Exists(
                LabReport.objects.filter(
                    AnyOf(F("lab_account_id"), accounts), draw_id=OuterRef("pk")
                )
            )
        )
        .values_list(*DRAW_FACT_FIELDS, "reported")
    )
)


def draws_for_accessions(accessions, lab_account) -> dict[str, DrawFacts]:
    """The draws this lab account may report on, by accession (one query for any number):
    draws sent to its lab, and draws it already sent a report for."""
    lab = scheduling.lab_of_account(lab_account)
    rows = _DRAWS_BY_ACCESSION.rows(sorted(set(accessions)), [lab_account.pk])
    return {
        row[0]: DrawFacts(*row[1:8])
        for row in rows
        if row[7] == lab or (not row[7] and lab == settings.DEFAULT_LAB) or row[8]
    }


def match_problems(clean: CleanReport, draw: DrawFacts | None) -> tuple[str, dict[str, list[str]]]:
    """("", {}) when the report matches its draw; else the kind of failure and its fields.

    Kinds: "accession" (404), "identity" (422, generic), "state" and "collected_on" (422).
    """
    accession = clean.accession
    if draw is None:
        return "accession", {"accession": [NO_SUCH_ACCESSION.format(accession=accession)]}
    if draw.mrn != clean.mrn or draw.date_of_birth != clean.date_of_birth:
        return "identity", {"patient": [IDENTITY_MISMATCH.format(accession=accession)]}
    if draw.state not in RECEIVABLE_DRAW_STATES:
        message = DRAW_NOT_COLLECTED.format(accession=accession, state=draw.state)
        return "state", {"accession": [message]}
    if (
        draw.collected_on is not None
        and abs(clean.collected_on - draw.collected_on) > COLLECTION_TOLERANCE
    ):
        message = COLLECTED_ON_MISMATCH.format(
            given=clean.collected_on.isoformat(), recorded=draw.collected_on.isoformat()
        )
        return "collected_on", {"collected_on": [message]}
    return "", {}


def _match_draw(clean: CleanReport, lab_account) -> DrawFacts:
    draw = draws_for_accessions([clean.accession], lab_account).get(clean.accession)
    kind, fields = match_problems(clean, draw)
    if kind == "accession":
        raise NotAssigned(fields["accession"][0], extra={"fields": fields, "match": kind})
    if kind:
        raise Mismatch(MATCH_FAILED, extra={"fields": fields, "match": kind})
    return draw


def report_match_failures_record(
    *, lab_account, failures: list[tuple[str, str]], action: str = MATCH_FAILED_ACTION
) -> None:
    """Audit reports that did not match their draw, after the refused write rolled back.

    `failures` are (accession, kind) pairs; no MRN or date of birth is recorded. These rows
    are what the lab_match_failure throttle counts.
    """
    if not failures:
        return
    with transaction.atomic():
        audit_bulk(
            action=action,
            acting_user=lab_account,
            rows=[
                AuditRow("patients.draw", "", None, {"accession": accession, "match": kind})
                for accession, kind in failures
            ],
        )


def _existing(lab_account, clean: CleanReport, digest: str) -> IngestResult | None:
    stored = LabReport.objects.filter(
        lab_account=lab_account, report_id=clean.report_id, version=clean.version
    ).first()
    if stored is None:
        return None
    if stored.payload_sha256 != digest:
        raise Conflict(KEY_CONFLICT.format(report_id=clean.report_id, version=clean.version))
    return IngestResult(report=stored, created=False)


def draw_results_for(draw_ids: Iterable[int]) -> list[scheduling.DrawResult]:
    """What the draws' current reports, all of them, say of each draw (one query).

    A reconcile, not the last report's word: a draw can carry several report chains (a
    second assay, a re-run sent under a new report id). It is resulted while any current,
    uncancelled report of it passed QC; failed, with the newest failing report's QC reason,
    when every such report failed; retracted (awaiting a result again) when none is left.
    Call it after the reports are stored, in their transaction.
    """
    ids = sorted(set(draw_ids))
    standing: dict[int, list[str]] = {draw_id: [] for draw_id in ids}
    rows = (
        LabReport.objects.filter(AnyOf(F("draw_id"), ids), is_current=True)
        .exclude(status=LabReport.Status.CANCELLED)
        .order_by("pk")
        .values_list("draw_id", "qc_status")
    )
    for draw_id, qc_status in rows:
        standing[draw_id].append(qc_status)
    results = []
    for draw_id, qc_statuses in standing.items():
        if LabReport.QcStatus.PASS in qc_statuses:
            results.append(scheduling.DrawResult(draw_id, scheduling.RESULTED))
        elif qc_statuses:
            results.append(scheduling.DrawResult(draw_id, scheduling.FAILED, qc_statuses[-1]))
        else:
            results.append(scheduling.DrawResult(draw_id, scheduling.RETRACTED))
    return results


CHAIN_RACED = (
    "Another version of report {report_id} was being stored at the same moment (a file?): "
    "nothing was stored from this request. Send it again."
)


def _lock_chain(lab_account_id: int, report_id: str) -> None:
    """Serialise versions of one report chain sent at once (until this transaction ends):
    the first version has no row to lock yet, so the lock is an advisory one on the chain's
    key. Twenty versions posted together then answer 201 or 409, never an IntegrityError."""
    if connection.vendor != "postgresql":
        return  # SQLite (the embedded demo) serialises writers anyway
    key = int.from_bytes(
        hashlib.blake2b(f"{lab_account_id}:{report_id}".encode(), digest_size=8).digest(),
        "big",
        signed=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@transaction.atomic(savepoint=False)  # its own transaction, or the caller's: nothing goes on
def report_ingest(  # after one of its errors, so no savepoint is needed (2 statements fewer)
    *, payload: dict, lab_account, upload=None, today: dt.date | None = None
) -> IngestResult:
    """Validate and store one report version; see the module docstring for the steps."""
    try:
        text = payload_json(payload)
    except (ValueError, RecursionError, TypeError):
        text = None  # the validator says why
    clean, errors = validate_report(payload, today=today or clinic_today(), text=text)
    if errors:
        raise ValidationError(errors)
    digest = payload_digest(text if text is not None else payload)
    _lock_chain(lab_account.pk, clean.report_id)

    # The current version (locked) and this version if it was received: one query.
    current = same = None
    for stored in LabReport.objects.select_for_update().filter(
        Q(is_current=True) | Q(version=clean.version),
        lab_account=lab_account,
        report_id=clean.report_id,
    ):
        if stored.is_current:
            current = stored
        if stored.version == clean.version:
            same = stored
    if same is not None:
        if same.payload_sha256 != digest:
            raise Conflict(KEY_CONFLICT.format(report_id=clean.report_id, version=clean.version))
        return IngestResult(report=same, created=False)
    if current is not None and clean.version < current.version:
        raise Conflict(
            OLDER_VERSION.format(
                report_id=clean.report_id, version=clean.version, current=current.version
            )
        )
    draw = _match_draw(clean, lab_account)

    # The chain's advisory lock serialises JSON posts of one chain, but a lab file stores its
    # reports by COPY without it (20,000 chains' locks would overflow the lock table): a file
    # storing this chain at the same moment may win the insert, and a savepoint catches the
    # loser (tests/rev5/test_rev5_json_vs_file_race.py).
    try:
        with transaction.atomic():
            if current is not None:
                LabReport.objects.filter(pk=current.pk).update(is_current=False)
            report = LabReport.objects.create(
                lab_account=lab_account,
                report_id=clean.report_id,
                version=clean.version,
                status=clean.status,
                draw_id=draw.pk,
                patient_id=draw.patient_id,
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
        # Another version of this chain became current meanwhile (a file storing it): which
        # one is current is for the lab to settle by sending again, never a 500.
        raise Conflict(CHAIN_RACED.format(report_id=clean.report_id)) from None
    if current is not None:
        LabReport.objects.filter(pk=current.pk).update(superseded_by=report)
    calls = VariantCall.objects.bulk_create(variant_calls(report, clean.variants))
    # The answer shows the draw's accession and the calls: known here, not read again.
    report.draw = Draw(pk=draw.pk, accession=clean.accession, patient_id=draw.patient_id)
    report._prefetched_objects_cache = {"variants": sorted(calls, key=lambda c: (c.gene, c.pk))}
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
    # The draw follows all its current reports; corrected to another draw (a wrong-patient
    # fix), the first draw follows what is left of its own.
    draws = [draw.pk] if current is None else [draw.pk, current.draw_id]
    scheduling.draws_apply_results(results=draw_results_for(draws), acting_user=lab_account)
    return IngestResult(report=report, created=True, first_of_chain=current is None)
