"""The alert invariant as a property (DESIGN §5): after any sequence of events, the pending
alerts equal what a from-scratch reconcile of the final facts gives, and no patient ever has
two pending alerts of one kind.

Hypothesis draws sequences of report stores, amendments, cancellations and moves to the other
patient, scans, regimen changes, state changes and decisions for two patients, applies them
through the same workflows the API calls, and compares the alerts built step by step with
those a reconcile builds after the pending ones are thrown away. PROPERTY_EXAMPLES raises the
number of sequences (default 100).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.workflows import patient_change, regimen_receive, report_receive, scan_receive
from core.exceptions import ApplicationError
from patients.models import Draw
from tests.builders import LONDON, payload, variant
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.decisions import alert_acknowledge
from therapy.models import Alert, AlertEvidence
from therapy.reconcile import alerts_reconcile

pytestmark = pytest.mark.django_db

DAYS = (dt.date(2026, 10, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 20))
# Patient 0: 11 months on the line at the first draw (switch); patient 1: the line started
# 15 May 2026, so the first two draws are early (review) and the third eligible (switch).
LINE_STARTS = (dt.date(2025, 11, 2), dt.date(2026, 5, 15))
VARIANTS = {
    "none": [],
    "d538g_low": [variant(vaf_percent=0.3)],
    "d538g_high": [variant(vaf_percent=1.2)],
    "y537s": [
        variant(
            hgvs_p="p.Tyr537Ser",
            hgvs_c=None,
            genome_build=None,
            chrom=None,
            pos=None,
            ref=None,
            alt=None,
        )
    ],
    "filtered": [variant(filter="weak_evidence")],
}

patient_ix = st.integers(0, 1)
events = st.one_of(
    st.tuples(st.just("store"), patient_ix, st.integers(0, 2), st.sampled_from(sorted(VARIANTS))),
    st.tuples(st.just("amend"), st.integers(0, 5), st.sampled_from(sorted(VARIANTS))),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5)),
    st.tuples(
        st.just("scan"),
        patient_ix,
        st.sampled_from([dt.date(2026, 9, 20), dt.date(2026, 11, 10), dt.date(2026, 11, 22)]),
        st.sampled_from(["no_progression", "progression", "indeterminate"]),
    ),
    st.tuples(st.just("regimen"), patient_ix, st.sampled_from(["swap_ai", "progression"])),
    st.tuples(st.just("state"), patient_ix, st.sampled_from(["withdrawn", "active", "deceased"])),
    st.tuples(
        st.just("decide"),
        patient_ix,
        st.sampled_from(["switch", "defer", "decline", "acknowledge"]),
    ),
)


class World:
    """Two patients with three collected draws each, and the report chains sent so far."""

    def __init__(self, oncologist, nurse, lab):
        self.lab, self.nurse, self.oncologist = lab, nurse, oncologist
        self.patients = []
        for i, start in enumerate(LINE_STARTS):
            p = PatientFactory(
                mrn=f"MRN-P{i}",
                date_of_birth=dt.date(1960 + i, 1, 1),
                oncologist=oncologist,
                surveillance_start_on=dt.date(2026, 1, 5),
            )
            RegimenFactory(patient=p, started_on=start)
            ScanFactory(patient=p, performed_on=dt.date(2026, 9, 1), outcome="no_progression")
            self.patients.append(p)
        # Collected draws, written directly: set-up only (the collection path has its tests).
        Draw.objects.bulk_create(
            Draw(
                patient=p,
                planned_on=day,
                due_on=day,
                window_opens_on=day - dt.timedelta(days=7),
                window_closes_on=day + dt.timedelta(days=7),
                state=Draw.State.COLLECTED,
                collected_at=dt.datetime.combine(day, dt.time(9), LONDON),
                collected_on=day,
                accession=self.accession(i, d),
            )
            for i, p in enumerate(self.patients)
            for d, day in enumerate(DAYS)
        )
        self.chains: list[dict] = []  # report_id, version, patient, draw, variants

    @staticmethod
    def accession(patient: int, draw: int) -> str:
        return f"ACC-{patient}{draw}"

    def send(self, chain: dict, status: str) -> None:
        i, d = chain["patient"], chain["draw"]
        body = payload(
            report_id=chain["report_id"],
            version=chain["version"],
            status=status,
            accession=self.accession(i, d),
            patient={"mrn": f"MRN-P{i}", "date_of_birth": f"{1960 + i}-01-01"},
            collected_on=DAYS[d].isoformat(),
            reported_on="2026-11-23",
            variants=[] if status == "cancelled" else VARIANTS[chain["variants"]],
        )
        report_receive(payload=body, lab_account=self.lab)

    def apply(self, event) -> None:
        if event[0] in ("store", "amend", "cancel", "move"):
            with transaction.atomic():  # every generated report is valid: it must be stored
                self._apply(event)
            return
        try:
            with transaction.atomic():
                self._apply(event)
        except (ValidationError, ApplicationError):
            pass  # refused as the API would refuse it (400/409): nothing written

    def _apply(self, event) -> None:
        kind = event[0]
        if kind == "store":
            _, i, d, v = event
            chain = {
                "report_id": f"R{len(self.chains)}",
                "version": 1,
                "patient": i,
                "draw": d,
                "variants": v,
                "cancelled": False,
            }
            self.chains.append(chain)
            self.send(chain, "final")
        elif kind in ("amend", "cancel", "move") and self.chains:
            chain = self.chains[event[1] % len(self.chains)]
            if chain["cancelled"]:
                return
            chain["version"] += 1
            if kind == "amend":
                chain["variants"] = event[2]
                self.send(chain, "amended")
            elif kind == "cancel":
                chain["cancelled"] = True
                self.send(chain, "cancelled")
            else:
                chain["patient"] = 1 - chain["patient"]
                self.send(chain, "corrected")
        elif kind == "scan":
            _, i, day, outcome = event
            scan_receive(
                patient=self.patients[i],
                performed_on=day,
                modality="ct",
                outcome=outcome,
                acting_user=self.oncologist,
            )
        elif kind == "regimen":
            _, i, how = event
            if how == "swap_ai":
                regimen = {
                    "endocrine_agent": "anastrozole",
                    "cdk46_inhibitor": "palbociclib",
                    "previous_end_reason": "toxicity",
                }
            else:
                regimen = {
                    "endocrine_agent": "fulvestrant",
                    "cdk46_inhibitor": "",
                    "previous_end_reason": "progression",
                }
            regimen_receive(
                patient=self.patients[i],
                started_on=dt.date(2026, 11, 21),
                acting_user=self.oncologist,
                **regimen,
            )
        elif kind == "state":
            _, i, state = event
            patient_change(
                patient=self.patients[i],
                acting_user=self.oncologist,
                changes={"surveillance_state": state},
            )
        elif kind == "decide":
            _, i, decision = event
            alert = (
                Alert.objects.filter(patient=self.patients[i], state__in=Alert.PENDING_STATES)
                .order_by("pk")
                .first()
            )
            if alert is None:
                return
            fields = {
                "switch": {"effective_on": dt.date(2026, 11, 24), "attest_no_progression": True},
                "defer": {"defer_until": dt.date(2026, 12, 1), "reason_code": "awaiting_imaging"},
                "decline": {"reason_code": "patient_preference"},
                "acknowledge": {"comment": "Managed on the progression pathway."},
            }[decision]
            alert_acknowledge(alert=alert, decision=decision, acting_user=self.oncologist, **fields)

    def pending(self) -> dict:
        ids = [p.pk for p in self.patients]
        alerts = Alert.objects.filter(patient_id__in=ids, state__in=Alert.PENDING_STATES)
        out = {}
        for alert in alerts:
            key = (alert.patient_id, alert.kind)
            assert key not in out, f"two pending {alert.kind} alerts for one patient"
            evidence = set(
                AlertEvidence.objects.filter(alert=alert).values_list("report_id", flat=True)
            )
            out[key] = (frozenset(evidence), tuple(map(tuple, alert.variants)))
        return out

    def from_scratch(self) -> dict:
        """Throw the pending alerts away and reconcile the final facts (then roll back)."""
        ids = [p.pk for p in self.patients]
        with transaction.atomic():
            pending = Alert.objects.filter(patient_id__in=ids, state__in=Alert.PENDING_STATES)
            AlertEvidence.objects.filter(alert__in=pending).delete()
            from therapy.models import SwitchEvaluation

            SwitchEvaluation.objects.filter(alert__in=pending).update(alert=None)
            pending.delete()
            alerts_reconcile(ids)
            result = self.pending()
            transaction.set_rollback(True)
        return result


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(events, min_size=1, max_size=9))
def test_incremental_alerts_equal_a_from_scratch_reconcile(sequence, oncologist, nurse, lab_user):
    with transaction.atomic():
        world = World(oncologist, nurse, lab_user)
        for event in sequence:
            world.apply(event)
            world.pending()  # at most one pending alert per patient and kind, at every step
        incremental = world.pending()
        assert incremental == world.from_scratch(), sequence
        # And a reconcile now changes nothing (idempotent).
        assert alerts_reconcile([p.pk for p in world.patients]) == []
        transaction.set_rollback(True)
