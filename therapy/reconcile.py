"""The alert reconcile (DESIGN.md §5): a patient's alerts are what the rule gives over all of
her current report versions, made true in the database, idempotently.

`alerts_reconcile(patient_ids)` is the only code that opens, attaches, detaches, withdraws or
flags alerts. Every event that can change the answer calls it for the affected patients in its
own transaction (report stored, amended, corrected, cancelled or moved; scan; regimen; state
change; planner activation; decision):

1. lock the patients' rows (in id order, so two reconciles cannot deadlock);
2. gather, set-based, each patient's state, regimens, scans, current report versions with
   their ESR1 calls, stored alerts with their evidence, and latest decline of each kind;
3. evaluate the rule (facts as of each report's collection) for every current report;
4. per kind, the desired evidence is the set of reports whose decision is that kind;
   precedence: esr1_with_progression withdraws switch/review alerts, a switch alert
   supersedes a review alert;
5. make the stored alerts match: open (one pending per patient and kind), attach/detach
   evidence, update what the alert shows from its latest-collected evidence, withdraw with a
   reason, and flag acted-on alerts whose evidence changed materially;
6. audit every change and notify the oncologist, once per alert and event;
7. record each report's decision (SwitchEvaluation) when it differs from the last one stored.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Max, Q, Subquery
from django.utils import timezone

from audit.services import AuditRow, audit_bulk
from core.db import AnyOf, JsonText, Prepared, rows_insert, write_batch
from liquidbiopsy.models import LabReport, VariantCall
from patients.models import ImagingAssessment, Patient, Regimen
from therapy.config import rule_config
from therapy.models import Alert, AlertEvidence, SwitchEvaluation
from therapy.notify import Addressee, alert_notices_publish, noun, noun_with_article
from therapy.rules import (
    ESR1_WITH_PROGRESSION,
    REVIEW,
    SWITCH_RECOMMENDED,
    Esr1Call,
    RegimenFact,
    RuleConfig,
    ScanFact,
    SwitchDecision,
    SwitchFacts,
    confirmation_needed,
    evaluate_serena6_switch,
    qualifying_calls,
    switch_facts,
    switched_by_hand,
)

W = Alert.WithdrawnReason
_VARIANT_FIELDS = {f.name for f in VariantCall._meta.get_fields()}


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def facts_snapshot(facts: SwitchFacts) -> dict:
    """A JSON-safe copy of the facts, stored with every decision so it can be replayed.

    The same as `_plain(dataclasses.asdict(facts))`, without asdict's deep copies (a file of
    20,000 reports snapshots 20,000 facts, twice: the alert and the evaluation)."""
    return _snapshot(facts)


_SCALARS = frozenset({str, int, bool, float, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, read once


_LEAVES = {  # _plain of the common leaf types, looked up by exact type
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
    Decimal: lambda value: format(value.normalize(), "f"),
}


def _snapshot(value):
    cls = type(value)
    if cls in _SCALARS:
        return value
    leaf = _LEAVES.get(cls)
    if leaf is not None:
        return leaf(value)
    names = _FIELD_NAMES.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    if names is not None:
        out = {}
        for name in names:
            v = getattr(value, name)
            cls = type(v)
            if cls in _SCALARS:
                out[name] = v
            else:
                leaf = _LEAVES.get(cls)
                out[name] = _snapshot(v) if leaf is None else leaf(v)
        return out
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else _snapshot(v) for v in value]
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    return _plain(value)


def _variants_json(variants) -> list[list[str]]:
    return [[protein, format(vaf.normalize(), "f")] for protein, vaf in variants]


@dataclasses.dataclass
class _Report:
    pk: int
    patient_id: int
    report_id: str
    version: int
    status: str
    qc_status: str
    collected_on: object
    calls: list[Esr1Call] = dataclasses.field(default_factory=list)
    decision: SwitchDecision | None = None
    facts: SwitchFacts | None = None
    _snapshot: dict | None = None
    _snapshot_json: JsonText | None = None

    def snapshot(self) -> dict:
        if self._snapshot is None:
            self._snapshot = facts_snapshot(self.facts)
        return self._snapshot

    def snapshot_json(self) -> JsonText:
        """The snapshot encoded once, for the alert and the evaluation that store it."""
        if self._snapshot_json is None:
            self._snapshot_json = JsonText(json.dumps(self.snapshot()))
        return self._snapshot_json


_CALL_COLUMNS = (
    "hgvs_p", "vaf", "chrom", "pos", "ref", "alt",
    *(f for f in ("filter", "genome_build", "transcript") if f in _VARIANT_FIELDS),
)  # fmt: skip
_CALL_FIELDS = {f.name for f in dataclasses.fields(Esr1Call)}
_ALERT_COLUMNS = [f.attname for f in Alert._meta.concrete_fields]

# The reconcile's reads, each compiled once (core.db.Prepared: the ORM's own SQL and
# converters, without building and compiling the query at every call).
_PATIENTS = Prepared(
    lambda ids: Patient.objects.select_for_update(of=("self",))
    .filter(AnyOf(F("pk"), ids))
    .order_by("pk")
    .values_list(
        "pk", "surveillance_state", "oncologist_id", "oncologist__email",
        "oncologist__is_active", "given_name", "family_name",
    )
)  # fmt: skip
_REGIMENS = Prepared(
    lambda ids: Regimen.objects.filter(AnyOf(F("patient_id"), ids)).values_list(
        "patient_id", "id", "endocrine_agent", "cdk46_inhibitor", "started_on", "ended_on",
        "end_reason",
    )
)  # fmt: skip
_SCANS = Prepared(
    lambda ids: ImagingAssessment.objects.filter(AnyOf(F("patient_id"), ids)).values_list(
        "patient_id", "performed_on", "outcome"
    )
)
_REPORTS = Prepared(
    lambda ids: LabReport.objects.filter(AnyOf(F("patient_id"), ids), is_current=True)
    .exclude(status=LabReport.Status.CANCELLED)
    .values_list(
        "pk", "patient_id", "report_id", "version", "status", "qc_status", "collected_on",
        "draw__collected_on",
    )
)  # fmt: skip
_CALLS = Prepared(
    lambda pks: VariantCall.objects.filter(AnyOf(F("report_id"), pks), gene="ESR1").values_list(
        "report_id", *_CALL_COLUMNS
    )
)
_ALERTS = Prepared(
    lambda ids: (
        Alert.objects.filter(AnyOf(F("patient_id"), ids))
        .exclude(state=Alert.State.WITHDRAWN)
        .order_by("pk")
        .values_list(*_ALERT_COLUMNS)
    )
)
_EVIDENCE = Prepared(
    lambda alert_ids: AlertEvidence.objects.filter(AnyOf(F("alert_id"), alert_ids)).values_list(
        "alert_id", "report_id"
    )
)
_LAST_EVALUATIONS = Prepared(
    lambda report_pks: SwitchEvaluation.objects.filter(
        pk__in=Subquery(
            SwitchEvaluation.objects.filter(AnyOf(F("report_id"), report_pks))
            .values("report_id")
            .annotate(last=Max("id"))
            .values("last")
        )
    ).values_list("report_id", "rule_version", "kind", "reasons")
)


def _esr1_calls(report_pks: Iterable[int]) -> dict[int, list[Esr1Call]]:
    out: dict[int, list[Esr1Call]] = defaultdict(list)
    for report_pk, *values in _CALLS.rows(report_pks):
        kwargs = {
            k: (v if v is not None or k == "pos" else "")
            for k, v in zip(_CALL_COLUMNS, values, strict=True)
        }
        out[report_pk].append(Esr1Call(**{k: v for k, v in kwargs.items() if k in _CALL_FIELDS}))
    return out


def _gather(patient_ids: list[int], config: RuleConfig):
    """Everything the reconcile reads, in a constant number of queries."""
    display_name = Patient.display_name.fget  # what the in-app notice names her by
    patients = {}
    oncologists = {}
    for pk, state, onc, email, active, given, family in _PATIENTS.rows(patient_ids):
        patients[pk] = {
            "state": state,
            "oncologist_id": onc,
            "name": display_name(SimpleNamespace(given_name=given, family_name=family))
            if family
            else "",
        }
        if onc not in oncologists:  # a notice's recipient: what notifications_publish reads
            oncologists[onc] = get_user_model()(id=onc, email=email, is_active=active)
    regimens: dict[int, list[RegimenFact]] = defaultdict(list)
    for pid, *regimen in _REGIMENS.rows(patient_ids):
        regimens[pid].append(RegimenFact(*regimen))
    scans: dict[int, list[ScanFact]] = defaultdict(list)
    for pid, day, outcome in _SCANS.rows(patient_ids):
        scans[pid].append(ScanFact(day, outcome))
    reports: dict[int, list[_Report]] = defaultdict(list)
    by_pk = {}
    for pk, pid, rid, version, status, qc, lab_day, draw_day in _REPORTS.rows(patient_ids):
        # The clocks run from the nurse's recorded collection, the lab's date as a fallback.
        report = _Report(pk, pid, rid, version, status, qc, draw_day or lab_day)
        reports[pid].append(report)
        by_pk[pk] = report
    for pk, calls in _esr1_calls(by_pk).items():
        by_pk[pk].calls = calls
    alerts: dict[int, list[Alert]] = defaultdict(list)
    alert_rows = [
        Alert.from_db("default", _ALERT_COLUMNS, row) for row in _ALERTS.rows(patient_ids)
    ]
    for alert in alert_rows:
        alert.evidence_ids = set()
        alerts[alert.patient_id].append(alert)
    by_alert = {a.pk: a for a in alert_rows}
    for alert_id, report_pk in _EVIDENCE.rows(by_alert):
        by_alert[alert_id].evidence_ids.add(report_pk)
    return patients, oncologists, regimens, scans, reports, alerts


def _declines(alerts: list[Alert]) -> tuple:
    """The variants of the latest acted-on alert of each kind: declined, or accepted (a
    progression alert acknowledged on its pathway; a switch accepted). The same variants
    persisting do not re-alert that kind (DESIGN §5); a new or risen one does."""
    latest: dict[str, Alert] = {}
    for alert in alerts:
        if alert.state in Alert.ACTED_ON_STATES:
            best = latest.get(alert.kind)
            key = (alert.decided_at or alert.updated_at, alert.pk)
            if best is None or key > (best.decided_at or best.updated_at, best.pk):
                latest[alert.kind] = alert
    return tuple(
        (kind, tuple((p, Decimal(str(v))) for p, v in alert.evidence_variants or alert.variants))
        for kind, alert in sorted(latest.items())
    )


def _strongest_per_variant(evidence: list[_Report]) -> list[list[str]]:
    """The union of the evidence's qualifying variants, each at its highest fraction,
    strongest first (a decline covers every report the oncologist saw, not only the latest)."""
    best: dict[str, Decimal] = {}
    for report in evidence:
        for protein, vaf in report.decision.variants:
            if protein not in best or vaf > best[protein]:
                best[protein] = vaf
    return _variants_json(sorted(best.items(), key=lambda pv: (-pv[1], pv[0])))


# Each field's default: a value, or (for a mutable one: a JSON dict or list) its factory.
_ALERT_DEFAULTS = [
    (f.attname, f.default, True) if f.has_default() and callable(f.default)
    else (f.attname, f.get_default(), False)
    for f in Alert._meta.concrete_fields
]  # fmt: skip


def _alert_new(values: dict) -> Alert:
    """An unsaved Alert of `values`, every other field at its default: the model's
    positional constructor, a quarter of the cost of keywords (a file opens 20,000)."""
    return Alert(
        *[
            values[name] if name in values else default() if factory else default
            for name, default, factory in _ALERT_DEFAULTS
        ]
    )


class _Run:
    """One reconcile: the changes it makes and the alerts it touched."""

    def __init__(self, acting_user, config: RuleConfig, patients: dict[int, dict]):
        self.acting_user = acting_user
        self.system = None if acting_user else "rule"
        self.config = config
        self.patients = patients
        self.now = timezone.now()
        self.address = Addressee()  # her oncologist, or the escalation contacts if she left
        self.touched: list[Alert] = []
        self._touched: set[int] = set()
        self.oncologists: dict[int, object] = {}
        # Written set-based at the end (flush): new alerts with their evidence, evidence
        # changes, audit rows and notices, each in one statement for the whole batch.
        self.opened: list[tuple[Alert, list[int], _Report]] = []
        self.evidence_added: list[tuple[Alert, int]] = []
        self.evidence_removed: list[tuple[Alert, set[int]]] = []
        self.audits: list[tuple[str, Alert, dict]] = []
        self.notices: list[tuple[Alert, str, str, bool]] = []

    def audit(self, action: str, alert: Alert, detail: dict) -> None:
        self.audits.append((action, alert, detail))

    def notify(self, alert: Alert, event: str, subject: str, *, replace: bool = False) -> None:
        self.notices.append((alert, event, subject, replace))

    def touch(self, alert: Alert) -> None:
        if id(alert) not in self._touched:
            self._touched.add(id(alert))
            self.touched.append(alert)

    def flush(self, batch) -> None:
        """The buffered writes, in a constant number of statements, from tuples (no model
        instances: core.db.rows_insert); all but the new alerts (whose ids the rest need)
        are added to `batch` (core.db.WriteBatch), run by the caller."""
        now = timezone.now()
        if self.opened:
            inserted = rows_insert(
                Alert,
                ("patient_id", "kind", "opened_at", "rule_version", "facts_snapshot",
                 "variants", "evidence_variants", "needs_confirmatory_imaging"),
                [
                    (a.patient_id, a.kind, a.opened_at, a.rule_version, latest.snapshot_json(),
                     a.variants, a.evidence_variants, a.needs_confirmatory_imaging)
                    for a, _, latest in self.opened
                ],
                returning=("id", "patient_id", "kind"),
                now=now,
            )  # fmt: skip
            # One pending alert per patient and kind (the partial unique index): the key.
            ids = {(pid, kind): pk for pk, pid, kind in inserted}
            opened_audits = []
            for alert, wanted, _ in self.opened:
                alert.id = ids[(alert.patient_id, alert.kind)]
                alert.created_at = alert.updated_at = now
                alert._state.adding = False
                alert._state.db = "default"
                self.evidence_added += [(alert, pk) for pk in wanted]
                opened_audits.append(("alert.open", alert, {"kind": alert.kind, "reports": wanted}))
            opened_audits.reverse()  # the order they were always written in
            self.audits[:0] = opened_audits
        if self.evidence_added:
            rows_insert(
                AlertEvidence,
                ("alert_id", "report_id"),
                [(alert.pk, report_pk) for alert, report_pk in self.evidence_added],
                ignore_conflicts=True,
                now=now,
                batch=batch,
            )
        removed = Q()
        for alert, pks in self.evidence_removed:
            removed |= Q(alert=alert, report_id__in=pks)
        if self.evidence_removed:  # not batched: other pairs than those inserted
            AlertEvidence.objects.filter(removed).delete()
        by_action: dict[str, list[AuditRow]] = defaultdict(list)
        for action, alert, detail in self.audits:
            by_action[action].append(
                AuditRow("therapy.alert", str(alert.pk), alert.patient_id, detail)
            )
        for action, rows in by_action.items():
            audit_bulk(
                action=action,
                rows=rows,
                acting_user=self.acting_user,
                system=self.system,
                batch=batch,
            )
        rows = []
        for alert, event, subject, replace in self.notices:
            patient = self.patients[alert.patient_id]
            to, subject = self.address(self.oncologists[patient["oncologist_id"]], subject)
            rows.append((alert.pk, event, subject, replace, patient["name"], to))
        alert_notices_publish(rows, batch=batch)
        self.opened, self.evidence_added, self.evidence_removed = [], [], []
        self.audits, self.notices = [], []

    # --- pending alerts ---------------------------------------------------------------------

    def make_pending(
        self, alert: Alert | None, kind: str, evidence: list[_Report], pinfo, pid, scans
    ) -> Alert:
        latest = max(evidence, key=lambda r: (r.collected_on, r.version, r.pk))
        decision = latest.decision
        shown = {
            "variants": _variants_json(decision.variants),
            "evidence_variants": _strongest_per_variant(evidence),
            "facts_snapshot": latest.snapshot(),
            "needs_confirmatory_imaging": confirmation_needed(
                decision.needs_confirmatory_imaging,
                [(s.performed_on, s.outcome) for s in scans],
                latest.collected_on,
            ),
            "rule_version": decision.rule_version,
        }
        wanted = {r.pk for r in evidence}
        if alert is None:
            # The partial unique index allows one pending alert per patient and kind; the
            # patient's row lock makes this the only reconcile that can open it.
            alert = _alert_new({"patient_id": pid, "kind": kind, "opened_at": self.now, **shown})
            alert.evidence_ids = wanted
            self.opened.append((alert, sorted(wanted), latest))
            self.notify(alert, "opened", f"A new {noun(alert)} needs your decision")
            self.touch(alert)
            return alert
        added = wanted - alert.evidence_ids
        removed = alert.evidence_ids - wanted
        if added:
            self.evidence_added += [(alert, pk) for pk in sorted(added)]
        if removed:
            self.evidence_removed.append((alert, removed))
        changed_fields = [k for k, v in shown.items() if getattr(alert, k) != v]
        if changed_fields or added or removed:
            for k in changed_fields:
                setattr(alert, k, shown[k])
            alert.revision += 1
            alert.save(update_fields=[*changed_fields, "revision", "updated_at"])
        alert.evidence_ids = wanted
        if added or removed or changed_fields:
            self.audit(
                "alert.evidence",
                alert,
                {"added": sorted(added), "removed": sorted(removed), "fields": changed_fields},
            )
            if added:  # one notice per alert for new evidence, updated in place
                pending = "a deferred" if alert.state == Alert.State.DEFERRED else "an open"
                self.notify(
                    alert,
                    "evidence",
                    f"New ctDNA evidence on {pending} {noun(alert)}",
                    replace=True,
                )
            self.touch(alert)
        return alert

    def withdraw(self, alert: Alert, reason: str, detail: dict) -> None:
        alert.state = Alert.State.WITHDRAWN
        alert.withdrawn_reason = reason
        alert.withdrawn_at = self.now
        alert.withdrawn_detail = detail
        alert.revision += 1
        alert.save(
            update_fields=[
                "state", "withdrawn_reason", "withdrawn_at", "withdrawn_detail", "revision",
                "updated_at",
            ]
        )  # fmt: skip
        self.audit("alert.withdraw", alert, {"reason": reason, **detail})
        label = Alert.WithdrawnReason(reason).label.lower()
        self.notify(
            alert, "withdrawn", f"{noun_with_article(alert, capital=True)} was withdrawn: {label}"
        )
        self.touch(alert)

    # --- acted-on alerts --------------------------------------------------------------------

    def flag(self, alert: Alert, changes: list[str], trigger: int) -> None:
        # How the evidence now differs from the decision's, without the report versions: the
        # same difference as at the last flag is nothing new (a later version repeating a
        # reviewed change), another one is (a change that came back after a different one was
        # reviewed). Lines already on the alert word for word (an alert flagged before the
        # state was kept) only record the state.
        state = sorted({_unversioned(c) for c in changes})
        if state == alert.flag_state:
            return
        alert.flag_state = state
        new = [c for c in changes if c not in alert.flag_detail]
        if not new:
            alert.save(update_fields=["flag_state"])
            return
        alert.flagged_for_review = True
        alert.flag_detail = [*alert.flag_detail, *new]
        alert.revision += 1
        alert.save(
            update_fields=[
                "flagged_for_review", "flag_detail", "flag_state", "revision", "updated_at"
            ]
        )  # fmt: skip
        self.audit("alert.flag", alert, {"changes": new})
        self.notify(
            alert,
            "flagged",
            f"The evidence of {noun_with_article(alert)} you decided has changed: please review",
            replace=True,
        )
        self.touch(alert)


_VERSION = re.compile(r" ?\(?version \d+\)?")


def _unversioned(change: str) -> str:
    """A flag line without the report version that gave it (_material_changes' wording)."""
    return _VERSION.sub("", change)


def _material_changes(acted: list[Alert], config: RuleConfig) -> dict[int, tuple[list[str], int]]:
    """For each acted-on alert: what changed in its evidence (a report cancelled, moved or
    failed; a variant gone; an allele fraction changed by the rise factor), with the report
    version that changed it. Four queries for all of them."""
    evidence = {pk for a in acted for pk in a.evidence_ids}
    if not evidence:
        return {}
    old = {
        r["pk"]: r
        for r in LabReport.objects.filter(pk__in=evidence).values(
            "pk", "lab_account_id", "report_id", "version", "patient_id"
        )
    }
    chains = {(r["lab_account_id"], r["report_id"]) for r in old.values()}
    current = {}
    lab_ids = {lab for lab, _ in chains}
    report_ids = {rid for _, rid in chains}
    for r in LabReport.objects.filter(
        lab_account_id__in=lab_ids, report_id__in=report_ids, is_current=True
    ).values("pk", "lab_account_id", "report_id", "version", "status", "qc_status", "patient_id"):
        key = (r["lab_account_id"], r["report_id"])
        if key in chains:
            current[key] = r
    calls = _esr1_calls({*old, *(c["pk"] for c in current.values())})
    out: dict[int, tuple[list[str], int]] = {}
    factor = config.rise_factor
    for alert in acted:
        changes: list[str] = []
        trigger = 0
        for pk in sorted(alert.evidence_ids):
            before = old[pk]
            now = current.get((before["lab_account_id"], before["report_id"]))
            if now is None or now["pk"] == pk:
                continue
            name = f"Report {before['report_id']}"
            trigger = max(trigger, now["pk"])
            if now["status"] == LabReport.Status.CANCELLED:
                changes.append(f"{name} was cancelled (version {now['version']}).")
                continue
            if now["patient_id"] != alert.patient_id:
                changes.append(
                    f"{name} was corrected to another patient (version {now['version']})."
                )
                continue
            if now["qc_status"] != LabReport.QcStatus.PASS:
                changes.append(f"{name} version {now['version']} failed QC.")
                continue
            was = dict(qualifying_calls(calls.get(pk, []), config))
            is_ = dict(qualifying_calls(calls.get(now["pk"], []), config))
            for protein, vaf in sorted(was.items()):
                if protein not in is_:
                    changes.append(f"{name} version {now['version']} no longer reports {protein}.")
                elif is_[protein] >= vaf * factor or is_[protein] * factor <= vaf:
                    changes.append(
                        f"{name} version {now['version']}: {protein} allele fraction "
                        f"{vaf * 100:.2f}% -> {is_[protein] * 100:.2f}%."
                    )
        if changes:
            out[alert.pk] = (changes, trigger)
    return out


def _record_evaluations(reports: list[_Report], alert_by_kind: dict, batch) -> None:
    """Store a report's decision when it differs from the last one stored for it."""
    if not reports:
        return
    last = {
        report_pk: (rule_version, kind, tuple(reasons))
        for report_pk, rule_version, kind, reasons in _LAST_EVALUATIONS.rows(
            [r.pk for r in reports]
        )
    }
    rows = []
    for r in reports:
        d = r.decision
        if last.get(r.pk) == (d.rule_version, d.kind or "", tuple(d.reasons)):
            continue
        alert = alert_by_kind.get((r.patient_id, d.kind)) if d.kind else None
        rows.append(
            (r.pk, r.patient_id, d.rule_version, d.kind or "", list(d.reasons),
             r.snapshot_json(), alert.pk if alert is not None else None)
        )  # fmt: skip
    rows_insert(
        SwitchEvaluation,
        ("report_id", "patient_id", "rule_version", "kind", "reasons", "facts_snapshot",
         "alert_id"),
        rows,
        batch=batch,
    )  # fmt: skip


@transaction.atomic(savepoint=False)  # a transaction of its own, or the caller's (no savepoint)
def alerts_reconcile(patient_ids: Iterable[int], *, acting_user=None) -> list[Alert]:
    """Make the patients' stored alerts what the rule gives over their current evidence.

    Returns the alerts this run opened or changed (for the API answer)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return []
    config = rule_config()
    patients, oncologists, regimens, scans, reports, alerts = _gather(ids, config)
    _follow_switches_by_hand(patients, regimens, config, acting_user)
    run = _Run(acting_user, config, patients)
    run.oncologists = oncologists
    all_reports: list[_Report] = []
    alert_by_kind: dict = {}
    acted: list[Alert] = []

    for pid, pinfo in patients.items():
        declined = _declines(alerts[pid])
        for report in reports[pid]:
            report.facts = switch_facts(
                report_status=report.status,
                qc_status=report.qc_status,
                esr1_calls=tuple(report.calls),
                collected_on=report.collected_on,
                surveillance_state=pinfo["state"],
                regimens=regimens[pid],
                scans=scans[pid],
                declined=declined,
                config=config,
            )
            report.decision = evaluate_serena6_switch(report.facts, config)
            all_reports.append(report)
        desired = {
            kind: [r for r in reports[pid] if r.decision.kind == kind]
            for kind in (ESR1_WITH_PROGRESSION, SWITCH_RECOMMENDED, REVIEW)
        }
        progression_reports = desired[ESR1_WITH_PROGRESSION]
        pending = {a.kind: a for a in alerts[pid] if a.state in Alert.PENDING_STATES}
        acted += [alert for alert in alerts[pid] if alert.state in Alert.ACTED_ON_STATES]

        for kind in (ESR1_WITH_PROGRESSION, SWITCH_RECOMMENDED, REVIEW):
            evidence = desired[kind]
            if kind in (SWITCH_RECOMMENDED, REVIEW) and progression_reports:
                evidence = []
            if kind == REVIEW and desired[SWITCH_RECOMMENDED] and not progression_reports:
                evidence = []
            alert = pending.get(kind)
            if evidence:
                alert_by_kind[(pid, kind)] = run.make_pending(
                    alert, kind, evidence, pinfo, pid, scans[pid]
                )
                continue
            if alert is None:
                continue
            if kind != ESR1_WITH_PROGRESSION and progression_reports:
                reason, detail = (
                    W.PROGRESSION,
                    {"reports": sorted(r.pk for r in progression_reports)},
                )
            elif kind == REVIEW and desired[SWITCH_RECOMMENDED]:
                reason, detail = W.SUPERSEDED, {"by_kind": SWITCH_RECOMMENDED}
            elif pinfo["state"] != "active" and (
                kind != ESR1_WITH_PROGRESSION or pinfo["state"] in ("deceased", "withdrawn")
            ):
                reason, detail = W.PATIENT_STATE, {"state": pinfo["state"]}
                if "switched_by" in pinfo:
                    detail.update(pinfo["switched_by"])
            else:
                reason, detail = _without_evidence(alert, reports[pid])
            run.withdraw(alert, reason, detail)

    for alert_pk, (changes, trigger) in _material_changes(acted, config).items():
        alert = next(a for a in acted if a.pk == alert_pk)
        run.flag(alert, changes, trigger)
    # Every write after the new alerts' INSERT goes in one round trip (PostgreSQL; elsewhere
    # batch is None and each runs at once). The evaluations' read sees none of it.
    batch = write_batch()
    run.flush(batch)
    _record_evaluations(all_reports, alert_by_kind, batch)
    if batch is not None:
        batch.run()
    return run.touched


def _follow_switches_by_hand(patients: dict, regimens: dict, config: RuleConfig, acting_user):
    """An active patient whose current regimen is the recommended switch, recorded by hand
    (therapy.rules.switched_by_hand), is switched: post-switch monitoring, as accepting the
    alert would have left her (DESIGN §3, §5). Her pending switch or review alert then has no
    evidence (clause 2: she is not `active`) and is withdrawn for her state, the withdrawal
    naming the regimen; it is not recorded as accepted, since nobody decided it.

    Her row is locked already (_gather); only a patient this applies to costs a query."""
    from patients.services import patient_mark_switched

    for pid, pinfo in patients.items():
        if pinfo["state"] != "active":
            continue
        regimen = switched_by_hand(regimens[pid], config)
        if regimen is None:
            continue
        patient_mark_switched(patient=Patient(pk=pid), acting_user=acting_user)
        pinfo["state"] = "post_switch"
        pinfo["switched_by"] = {
            "switched_by_regimen": regimen.id,
            "regimen": {
                "endocrine_agent": regimen.endocrine_agent,
                "cdk46_inhibitor": regimen.cdk46_inhibitor,
                "started_on": regimen.started_on.isoformat(),
            },
        }


def _without_evidence(alert: Alert, reports: list[_Report]) -> tuple[str, dict]:
    """Why a pending alert has no evidence left: its reports were cancelled, replaced or moved
    (evidence_retracted), or one of them stands unchanged and the rule no longer gives this
    alert from it, because a fact as of collection changed (a regimen recorded since, back-dated
    before the blood test, say): no_longer_eligible, with the rule's reasons now."""
    detail = _retracted_detail(alert)
    standing = [
        r
        for r in detail["reports"]
        if r["now_version"] == r["was_version"]
        and r["now_status"] != LabReport.Status.CANCELLED
        and not r["moved_to_other_patient"]
    ]
    if not standing:
        return Alert.WithdrawnReason.EVIDENCE_RETRACTED, detail
    reasons = sorted(
        {reason for r in reports if r.pk in alert.evidence_ids for reason in r.decision.reasons}
    )
    return Alert.WithdrawnReason.NO_LONGER_ELIGIBLE, {**detail, "rule_reasons": reasons}


def _retracted_detail(alert: Alert) -> dict:
    """Which reports the alert rested on, and what became of their chains."""
    old = list(
        LabReport.objects.filter(pk__in=alert.evidence_ids).values(
            "lab_account_id", "report_id", "version"
        )
    )
    now = {
        (r["lab_account_id"], r["report_id"]): r
        for r in LabReport.objects.filter(
            lab_account_id__in={o["lab_account_id"] for o in old},
            report_id__in={o["report_id"] for o in old},
            is_current=True,
        ).values("pk", "lab_account_id", "report_id", "version", "status", "patient_id")
    }
    reports = []
    for o in old:
        cur = now.get((o["lab_account_id"], o["report_id"]))
        reports.append(
            {
                "report_id": o["report_id"],
                "was_version": o["version"],
                "now_version": cur["version"] if cur else None,
                "now_status": cur["status"] if cur else None,
                "moved_to_other_patient": bool(cur and cur["patient_id"] != alert.patient_id),
            }
        )
    return {"reports": reports}


_CHAIN_PATIENTS = Prepared(
    lambda labs, report_ids: (
        LabReport.objects.filter(
            AnyOf(F("lab_account_id"), labs), AnyOf(F("report_id"), report_ids)
        )
        .order_by()
        .values_list("patient_id")
    )
)


def patients_of_report_chain(*, lab_account_id: int, report_id: str) -> list[int]:
    """Every patient a version of this report chain belongs to (a moved report: both)."""
    return sorted({pid for (pid,) in _CHAIN_PATIENTS.rows([lab_account_id], [report_id])})
