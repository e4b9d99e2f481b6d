"""Storing a file of reports (CSV or VCF upload): all or nothing, set-based.

1. Validate every report (the same validator as the JSON call); errors carry file lines.
2. Match every accession in one query and check every key against stored versions in one
   query: identical re-sends are skipped, conflicts and older versions are errors.
3. Any error rejects the whole file: nothing is stored.
4. One transaction stores it: lock the current versions, bulk-insert reports and variants,
   supersede, move draws (resulted / failed with redraws / back to awaiting) with set
   UPDATEs, and audit one event per report. No per-row save and no per-row lookup.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import AuditRow, audit_bulk
from core.clock import clinic_today
from liquidbiopsy.models import LabReport, VariantCall
from liquidbiopsy.parsers import CSV_COLUMNS
from liquidbiopsy.services import (
    IDENTITY_MISMATCH,
    KEY_CONFLICT,
    NO_SUCH_ACCESSION,
    OLDER_VERSION,
    DrawFacts,
    draw_results_for,
    draws_for_accessions,
    match_problems,
    payload_digest,
    payload_json,
    variant_calls,
    variant_rows,
)
from liquidbiopsy.validation import CleanReport, report_identity, validate_report
from patients.scheduling import draws_apply_results

TWO_VERSIONS_IN_FILE = (
    "Report {report_id} appears in this file more than once (also from line {other}); "
    "send one version of a report per file."
)
STORED_MEANWHILE = (
    "A report in this file was stored by another submission while the file was being "
    "stored; nothing was stored. Send the file again: reports already received are skipped."
)
IDENTITIES_IN_CONFLICT = (
    "Accession '{accession}' appears in this file with different patient identifiers "
    "({lines}); a draw belongs to one patient, so none of them was checked against it."
)
TOO_MANY_MISMATCHES = (
    "More reports in this file do not match their draws (accession or patient identifiers) "
    "than this account may send in an hour, so no report was matched and no line is listed. "
    "Check the file's accessions and identifiers against your records (a shifted column?), "
    "or send it in smaller files; nothing was stored."
)
CHANGED_MEANWHILE = (
    "Report {report_id} changed while this file was being checked (another submission "
    "stored a version); send the file again."
)


@dataclass(frozen=True)
class FileError:
    """One problem in a file. `field` is the report's JSON path (as the JSON endpoint names
    it); `column` the CSV column the lab fixes it in (CSV files only; None when the problem
    is not one column's, e.g. a variant without any location, or a whole-file problem)."""

    line: int | None
    field: str
    message: str
    column: str | None = None

    def as_dict(self) -> dict:
        out = {"line": self.line, "field": self.field, "message": self.message}
        if self.column is not None:
            out["column"] = self.column
        return out


_PATH_COLUMNS = {"patient.mrn": "mrn", "patient.date_of_birth": "date_of_birth"}


def csv_column(path: str) -> str | None:
    """The CSV column a validator path names: "variants[0].vaf_percent" -> "vaf_percent",
    "patient.mrn" -> "mrn", "accession" -> "accession"; None for a whole report or variant
    ("variants[0]", "patient", "non_field_errors")."""
    if path in _PATH_COLUMNS:
        return _PATH_COLUMNS[path]
    name = path.rsplit(".", 1)[-1] if "." in path else path
    return name if name in CSV_COLUMNS else None


class FileRejected(Exception):
    def __init__(
        self,
        errors: list[FileError],
        match_failures: list[tuple[str, str]] = (),
        withheld: list[tuple[str, str]] = (),
    ):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors
        # (accession, kind) of reports that did not match their draw: audited and throttled.
        self.match_failures = list(match_failures)
        # A file's failures past the account's allowance, none of them answered: audited
        # each, and the file counts as one failure (it told the sender nothing per report).
        self.withheld = list(withheld)


@dataclass(frozen=True)
class BulkResult:
    stored: int
    unchanged: int
    report_ids: list[int]


@dataclass(frozen=True)
class _Probe:
    """A report with field errors whose accession and identity are readable: still matched,
    so that its identity errors come in the same answer."""

    accession: str
    mrn: str
    date_of_birth: dt.date
    line: int | None


@dataclass
class _Item:
    clean: CleanReport
    payload: str  # canonical JSON text (_canonical)
    digest: str
    lines: list[int]
    draw: DrawFacts | None = None


def _split_lines(raw: dict) -> tuple[dict, list[int], list[int | None]]:
    """The report as the lab sent it, and the file lines it came from. The parser's dicts
    are its own (built for this call), so the line keys are taken out of them in place."""
    payload = {k: v for k, v in raw.items() if k != "_lines"}
    variant_lines: list[int | None] = []
    if isinstance(payload.get("variants"), list):
        for variant in payload["variants"]:
            variant_lines.append(variant.pop("_line", None) if isinstance(variant, dict) else None)
    return payload, list(raw.get("_lines") or []), variant_lines


def _canonical(payload: dict) -> str | None:
    """The payload's canonical JSON text (sorted keys, no spaces): hashed for the digest,
    stored as the payload and read by the validator; None when it cannot be written (the
    validator then says why)."""
    try:
        return payload_json(payload)
    except (ValueError, RecursionError, TypeError):
        return None


def _line_for(path: str, lines: list[int], variant_lines: list[int | None]) -> int | None:
    if path.startswith("variants[") and "]" in path:
        index = int(path[len("variants[") : path.index("]")])
        if index < len(variant_lines) and variant_lines[index] is not None:
            return variant_lines[index]
    return lines[0] if lines else None


_VARIANT_PATH = re.compile(r"variants\[(\d+)\]")


def _lines_named(message: str, variant_lines: list[int | None]) -> str:
    def line(match: re.Match) -> str:
        index = int(match.group(1))
        found = variant_lines[index] if index < len(variant_lines) else None
        return f"line {found}" if found is not None else match.group(0)

    return _VARIANT_PATH.sub(line, message)


def _validate(
    reports, today, progress, columns: bool = False
) -> tuple[list[_Item], list[FileError], list[_Probe]]:
    items, errors, probes = [], [], []
    first_line: dict[str, int | None] = {}
    rows_checked = 0
    for count, raw in enumerate(reports, start=1):
        payload, lines, variant_lines = _split_lines(raw)
        text = _canonical(payload)
        clean, problems = validate_report(payload, today=today, text=text)
        for path, messages in problems.items():
            line = _line_for(path, lines, variant_lines)
            column = csv_column(path) if columns else None
            if columns:  # "also at variants[0]" names the CSV line instead
                messages = [_lines_named(m, variant_lines) for m in messages]
            errors += [FileError(line, path, message, column) for message in messages]
        if clean is None and (identity := report_identity(payload)) is not None:
            probes.append(_Probe(*identity, lines[0] if lines else None))
        if clean is not None:
            if clean.report_id in first_line:
                errors.append(
                    FileError(
                        lines[0] if lines else None,
                        "report_id",
                        TWO_VERSIONS_IN_FILE.format(
                            report_id=clean.report_id, other=first_line[clean.report_id]
                        ),
                        "report_id" if columns else None,
                    )
                )
            first_line[clean.report_id] = lines[0] if lines else None
            text = text if text is not None else payload_json(payload)
            items.append(_Item(clean, text, payload_digest(text), lines))
            rows_checked += max(len(lines), 1)
        if progress is not None and count % 500 == 0:
            progress(rows_checked)
    return items, errors, probes


def _match(
    items: list[_Item], lab_account, probes: list[_Probe] = (), columns: bool = False
) -> tuple[list[_Item], int, list[FileError], list[tuple[str, str]]]:
    """Attach draws and drop identical re-sends; one query each for draws and reports.
    Probes (reports with field errors) are checked for their accession and identity only."""
    errors: list[FileError] = []
    failures: list[tuple[str, str]] = []
    # One accession sent with two identities would show line by line which is the patient's:
    # such an accession is an error on each of its lines and is never compared with its draw.
    sent: dict[str, dict[tuple[str, dt.date], list[int | None]]] = {}
    for accession, identity, line in [
        *((p.accession, (p.mrn, p.date_of_birth), p.line) for p in probes),
        *(
            (
                i.clean.accession,
                (i.clean.mrn, i.clean.date_of_birth),
                i.lines[0] if i.lines else None,
            )
            for i in items
        ),
    ]:
        sent.setdefault(accession, {}).setdefault(identity, []).append(line)
    conflicted = {accession: ids for accession, ids in sent.items() if len(ids) > 1}
    for accession, identities in conflicted.items():
        lines = sorted(line for ls in identities.values() for line in ls if line is not None)
        named = ", ".join(f"line {n}" for n in lines[:10])
        named += f" and {len(lines) - 10} more" if len(lines) > 10 else ""
        message = IDENTITIES_IN_CONFLICT.format(accession=accession, lines=named or "no lines")
        errors += [FileError(line, "patient", message) for line in lines]
        failures += [(accession, "identity")] * len(identities)
    probes = [p for p in probes if p.accession not in conflicted]
    items = [i for i in items if i.clean.accession not in conflicted]
    draws = draws_for_accessions(
        {i.clean.accession for i in items} | {p.accession for p in probes}, lab_account
    )
    for probe in probes:
        draw = draws.get(probe.accession)
        if draw is None:
            kind = "accession"
            problem = ("accession", NO_SUCH_ACCESSION.format(accession=probe.accession))
        elif draw.mrn != probe.mrn or draw.date_of_birth != probe.date_of_birth:
            kind = "identity"
            problem = ("patient", IDENTITY_MISMATCH.format(accession=probe.accession))
        else:
            continue
        column = "accession" if kind == "accession" and columns else None
        errors.append(FileError(probe.line, problem[0], problem[1], column))
        failures.append((probe.accession, kind))
    stored = {
        (report_id, version): (digest, is_current)
        for report_id, version, digest, is_current in LabReport.objects.filter(
            lab_account=lab_account, report_id__in={i.clean.report_id for i in items}
        ).values_list("report_id", "version", "payload_sha256", "is_current")
    }
    current = {key[0]: key[1] for key, (_, is_current) in stored.items() if is_current}
    fresh, unchanged = [], 0
    for item in items:
        c, line = item.clean, (item.lines[0] if item.lines else None)
        existing = stored.get((c.report_id, c.version))
        if existing is not None:
            if existing[0] == item.digest:
                unchanged += 1
            else:
                errors.append(
                    FileError(
                        line,
                        "version",
                        KEY_CONFLICT.format(report_id=c.report_id, version=c.version),
                        "version" if columns else None,
                    )
                )
            continue
        if c.report_id in current and c.version < current[c.report_id]:
            errors.append(
                FileError(
                    line,
                    "version",
                    OLDER_VERSION.format(
                        report_id=c.report_id, version=c.version, current=current[c.report_id]
                    ),
                    "version" if columns else None,
                )
            )
            continue
        draw = draws.get(c.accession)
        kind, fields = match_problems(c, draw)
        if kind:
            errors += [
                FileError(line, field, message, csv_column(field) if columns else None)
                for field, messages in fields.items()
                for message in messages
            ]
            if kind in ("accession", "identity"):
                failures.append((c.accession, kind))
            continue
        item.draw = draw
        fresh.append(item)
    return fresh, unchanged, errors, failures


@dataclass(frozen=True)
class _Stored:
    pk: int
    patient_id: int
    clean: CleanReport
    moved_from_draw: int | None = None  # the draw its previous version was on, if another


def _store(items: list[_Item], lab_account, upload) -> list[_Stored]:
    report_ids = {i.clean.report_id for i in items}
    previous = {
        r.report_id: r
        for r in LabReport.objects.select_for_update().filter(
            lab_account=lab_account, report_id__in=report_ids, is_current=True
        )
    }
    for item in items:  # a concurrent submission may have stored a version meanwhile
        old = previous.get(item.clean.report_id)
        if old is not None and old.version >= item.clean.version:
            raise FileRejected(
                [
                    FileError(
                        item.lines[0] if item.lines else None,
                        "version",
                        CHANGED_MEANWHILE.format(report_id=old.report_id),
                    )
                ]
            )
    LabReport.objects.filter(pk__in=[r.pk for r in previous.values()]).update(is_current=False)
    now = timezone.now()
    if connection.vendor == "postgresql":
        new_ids = _insert_pg(items, lab_account, upload, now)
    else:
        new_ids = _insert_orm(items, lab_account, upload, now)
    superseded = []
    for old in previous.values():
        old.superseded_by_id = new_ids[old.report_id]
        superseded.append(old)
    if superseded:
        LabReport.objects.bulk_update(superseded, ["superseded_by"])
    return [
        _Stored(
            new_ids[i.clean.report_id],
            i.draw.patient_id,
            i.clean,
            moved_from_draw=old.draw_id
            if (old := previous.get(i.clean.report_id)) is not None and old.draw_id != i.draw.pk
            else None,
        )
        for i in items
    ]


def _copy(cursor, table: str, columns: list[str], rows, nullable: list[str]) -> None:
    """COPY rows in CSV form; every value quoted, FORCE_NULL turns "" into NULL for the
    nullable columns (text columns keep "" as an empty string). Rows carry "" for None
    (written as they are, by the csv module's C loop)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows(rows)
    buffer.seek(0)
    force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
    with connection.wrap_database_errors:  # Django's exceptions, as from cursor.execute
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv{force_null})",
            buffer,
        )


def _insert_pg(items: list[_Item], lab_account, upload, now) -> dict[str, int]:
    """Reports and variants by COPY, the fastest way into PostgreSQL; report ids are taken
    from the table's sequence first so the variants can point at them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('liquidbiopsy_labreport', 'id')) "
            "FROM generate_series(1, %s)",
            [len(items)],
        )
        report_pks = [row[0] for row in cursor.fetchall()]
        upload_pk = upload.pk if upload else ""
        flags_json: dict[tuple[str, ...], str] = {}  # a file's calls share a few flag sets

        def flags_text(flags: list[str]) -> str:
            key = tuple(flags)
            text = flags_json.get(key)
            if text is None:
                text = flags_json[key] = json.dumps(flags)
            return text

        _copy(
            cursor,
            "liquidbiopsy_labreport",
            [
                "id",
                "created_at",
                "updated_at",
                "lab_account_id",
                "report_id",
                "version",
                "status",
                "is_current",
                "draw_id",
                "patient_id",
                "upload_id",
                "assay",
                "qc_status",
                "tumor_fraction",
                "collected_on",
                "reported_on",
                "payload",
                "payload_sha256",
                "received_at",
            ],
            (
                (
                    pk,
                    now,
                    now,
                    lab_account.pk,
                    i.clean.report_id,
                    i.clean.version,
                    i.clean.status,
                    "t",
                    i.draw.pk,
                    i.draw.patient_id,
                    upload_pk,
                    i.clean.assay,
                    i.clean.qc_status,
                    "" if i.clean.tumor_fraction is None else i.clean.tumor_fraction,
                    i.clean.collected_on,
                    i.clean.reported_on,
                    i.payload,
                    i.digest,
                    now,
                )
                for pk, i in zip(report_pks, items, strict=True)
            ),
            nullable=["upload_id", "tumor_fraction"],
        )
        _copy(
            cursor,
            "liquidbiopsy_variantcall",
            [
                "report_id",
                "gene",
                "hgvs_p",
                "hgvs_c",
                "transcript",
                "genome_build",
                "chrom",
                "pos",
                "ref",
                "alt",
                "vaf",
                "depth",
                "filter",
                "flags",
            ],
            (
                (
                    pk,
                    v.gene,
                    v.hgvs_p,
                    v.hgvs_c,
                    v.transcript,
                    v.genome_build,
                    v.chrom,
                    "" if v.pos is None else v.pos,
                    v.ref,
                    v.alt,
                    v.vaf,
                    "" if v.depth is None else v.depth,
                    v.filter,
                    flags_text(flags),
                )
                for pk, i in zip(report_pks, items, strict=True)
                for v, flags in variant_rows(i.clean.variants)
            ),
            nullable=["pos", "depth"],
        )
    return {i.clean.report_id: pk for pk, i in zip(report_pks, items, strict=True)}


def _insert_orm(items: list[_Item], lab_account, upload, now) -> dict[str, int]:
    """SQLite (the embedded demo): the same rows through bulk_create."""
    reports = LabReport.objects.bulk_create(
        [
            LabReport(
                lab_account=lab_account,
                report_id=i.clean.report_id,
                version=i.clean.version,
                status=i.clean.status,
                draw_id=i.draw.pk,
                patient_id=i.draw.patient_id,
                upload=upload,
                assay=i.clean.assay,
                qc_status=i.clean.qc_status,
                tumor_fraction=i.clean.tumor_fraction,
                collected_on=i.clean.collected_on,
                reported_on=i.clean.reported_on,
                payload=json.loads(i.payload),
                payload_sha256=i.digest,
                received_at=now,
            )
            for i in items
        ]
    )
    VariantCall.objects.bulk_create(
        [
            call
            for report, item in zip(reports, items, strict=True)
            for call in variant_calls(report, item.clean.variants)
        ]
    )
    return {r.report_id: r.pk for r in reports}


def _apply_to_draws(items: list[_Item], stored: list[_Stored], lab_account) -> None:
    """The draws follow all their current reports: the same set-based service as
    report_ingest. A version corrected to another draw (a wrong-patient fix) leaves the first
    draw with what is left of its own reports."""
    draws = [i.draw.pk for i in items]
    draws += [s.moved_from_draw for s in stored if s.moved_from_draw is not None]
    draws_apply_results(results=draw_results_for(draws), acting_user=lab_account)


def reports_ingest_bulk(
    *,
    reports: list[dict],
    lab_account,
    upload=None,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    file_errors: list[FileError] = (),
    columns: bool = False,
    on_stored: Callable[[BulkResult], None] | None = None,
    match_allowance: int | None = None,
) -> BulkResult:
    """Validate a whole file of reports, then store all of it or nothing (FileRejected).

    `file_errors` are the parser's structural errors: they are reported together with the
    validator's, and any of either kind stores nothing. `columns`: a CSV file, whose errors
    also name the CSV column. `on_stored(result)` runs inside the storing transaction, for
    what must be recorded with the reports or not at all (the reconciles they owe, the
    upload's end). `match_allowance`: how many failed matches the account may still make
    (the lab_match_failure throttle's remainder); a file with more lists no match result,
    so that one file is never more guesses at an identity than the throttle allows.
    """
    items, errors, probes = _validate(reports, today or clinic_today(), progress, columns)
    # Every report is also matched (those with field errors for accession and identity),
    # so one answer lists every problem.
    items, unchanged, match_errors, failures = (
        _match(items, lab_account, probes, columns) if items or probes else ([], 0, [], [])
    )
    withheld: list[tuple[str, str]] = []
    if match_allowance is not None and len(failures) > match_allowance:
        # Nothing per report is answered (not even how many failed): the file is one failure.
        match_errors = [FileError(None, "file", TOO_MANY_MISMATCHES)]
        withheld, failures = failures, [("", "file_withheld")]
    errors = sorted(
        [*file_errors, *errors, *match_errors], key=lambda e: (e.line is None, e.line or 0)
    )
    if errors:
        raise FileRejected(errors, match_failures=failures, withheld=withheld)
    try:
        with transaction.atomic():
            result = _store_all(items, unchanged, lab_account, upload, on_stored)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint not in _VERSION_CONSTRAINTS:
            raise
        # A version of a report in this file was stored by another submission (a JSON post)
        # after this file was checked and before its rows were written: nothing is stored.
        raise FileRejected([FileError(None, "file", STORED_MEANWHILE)]) from exc
    return result


_VERSION_CONSTRAINTS = ("one_report_version", "one_current_report_version")


def _store_all(items, unchanged, lab_account, upload, on_stored) -> BulkResult:
    """The storing transaction's work (reports_ingest_bulk)."""
    stored = _store(items, lab_account, upload) if items else []
    if items:
        _apply_to_draws(items, stored, lab_account)
        audit_bulk(
            action="report.store",
            acting_user=lab_account,
            rows=[
                AuditRow(
                    "liquidbiopsy.labreport",
                    str(report.pk),
                    report.patient_id,
                    {
                        "report_id": report.clean.report_id,
                        "version": report.clean.version,
                        "status": report.clean.status,
                        "qc_status": report.clean.qc_status,
                        "upload": upload.pk if upload else None,
                    },
                )
                for report in stored
            ],
        )
    result = BulkResult(stored=len(stored), unchanged=unchanged, report_ids=[r.pk for r in stored])
    if on_stored is not None:
        on_stored(result)
    return result
