"""The dashboard's precomputed figures equal the figures computed from the base tables, after
any sequence of the changes the clinic makes (issue 14).

Hypothesis draws sequences of report stores, amendments, cancellations and moves, scans,
regimen changes, state changes (death included), oncologist changes, draws collected, missed,
cancelled and un-collected, planner runs and alert decisions for two patients of two
oncologists, applies them through the same workflows and services the pages and the API call,
and compares after every step:
- `cohort_metrics` (precomputed) with `cohort_metrics_from_scratch` (base tables), for the
  whole cohort and each oncologist, over several ranges, today and 75 days on (when the open
  draws' windows have closed and count as due);
- the precomputed tables (alert copies included) with what `cohort_rebuild` makes of the
  final data.
PROPERTY_EXAMPLES raises the number of sequences (default 25).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.cohort import cohort_rebuild, cohort_refresh
from clinic.metrics import Filters, cohort_metrics, cohort_metrics_from_scratch
from clinic.models import CohortAlert, CohortDay, CohortPatient, CohortState
from clinic.workflows import (
    draws_plan_and_reconcile,
    patient_change,
    regimen_receive,
    report_receive,
    scan_receive,
)
from core.exceptions import ApplicationError
from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, payload, variant
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.decisions import alert_acknowledge
from therapy.models import Alert

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DAYS = (dt.date(2026, 10, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 20))
LINE_STARTS = (dt.date(2025, 11, 2), dt.date(2026, 5, 15))
VARIANTS = {
    "none": [],
    "d538g": [variant(vaf_percent=1.2)],
    "tp53": [
        variant(
            gene="TP53",
            hgvs_p="p.Arg175His",
            hgvs_c=None,
            genome_build=None,
            chrom=None,
            pos=None,
            ref=None,
            alt=None,
        )
    ],
}
RANGES = [
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2026, 10, 15), dt.date(2026, 11, 10)),
    (dt.date(2026, 11, 2), dt.date(2026, 11, 2)),
]

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
        st.sampled_from(["no_progression", "progression"]),
    ),
    st.tuples(st.just("regimen"), patient_ix, st.sampled_from(["swap_ai", "progression"])),
    st.tuples(st.just("state"), patient_ix, st.sampled_from(["withdrawn", "active", "deceased"])),
    st.tuples(st.just("oncologist"), patient_ix),
    st.tuples(st.just("collect"), patient_ix, st.integers(0, 20)),
    st.tuples(st.just("miss"), patient_ix),
    st.tuples(st.just("cancel_draw"), patient_ix),
    st.tuples(st.just("undo"), patient_ix),
    st.tuples(st.just("plan"), st.integers(0, 40)),
    st.tuples(
        st.just("decide"),
        patient_ix,
        st.sampled_from(["switch", "defer", "decline", "acknowledge"]),
    ),
)


class World:
    """Two patients (two oncologists), three collected draws each, an open draw each."""

    def __init__(self, oncologists, nurse, lab):
        self.lab, self.nurse, self.oncologists = lab, nurse, oncologists
        self.patients = []
        for i, start in enumerate(LINE_STARTS):
            p = PatientFactory(
                mrn=f"MRN-P{i}",
                date_of_birth=dt.date(1960 + i, 1, 1),
                oncologist=oncologists[i],
                surveillance_start_on=dt.date(2026, 1, 5),
            )
            RegimenFactory(patient=p, started_on=start)
            ScanFactory(patient=p, performed_on=dt.date(2026, 9, 1), outcome="no_progression")
            self.patients.append(p)
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
                accession=f"ACC-{i}{d}",
            )
            for i, p in enumerate(self.patients)
            for d, day in enumerate(DAYS)
        )
        cohort_refresh([p.pk for p in self.patients])  # the scans above: set-up below workflows
        draws_plan_and_reconcile(patient_ids=[p.pk for p in self.patients])
        self.chains: list[dict] = []
        self.collections = 0

    def send(self, chain: dict, status: str) -> None:
        i, d = chain["patient"], chain["draw"]
        body = payload(
            report_id=chain["report_id"],
            version=chain["version"],
            status=status,
            accession=f"ACC-{i}{d}",
            patient={"mrn": f"MRN-P{i}", "date_of_birth": f"{1960 + i}-01-01"},
            collected_on=DAYS[d].isoformat(),
            reported_on="2026-11-23",
            variants=[] if status == "cancelled" else VARIANTS[chain["variants"]],
        )
        report_receive(payload=body, lab_account=self.lab)

    def open_draw(self, i):
        return (
            Draw.objects.filter(patient=self.patients[i], state=Draw.State.SCHEDULED)
            .order_by("pk")
            .first()
        )

    def apply(self, event) -> None:
        try:
            with transaction.atomic():
                self._apply(event)
        except (ValidationError, ApplicationError):
            pass  # refused as the page or API would refuse it: nothing written

    def _apply(self, event) -> None:
        kind = event[0]
        patient = (
            self.patients[event[1]] if kind not in ("amend", "cancel", "move", "plan") else None
        )
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
            scan_receive(
                patient=patient,
                performed_on=event[2],
                modality="ct",
                outcome=event[3],
                acting_user=self.oncologists[0],
            )
        elif kind == "regimen":
            regimen = (
                {
                    "endocrine_agent": "anastrozole",
                    "cdk46_inhibitor": "palbociclib",
                    "previous_end_reason": "toxicity",
                }
                if event[2] == "swap_ai"
                else {
                    "endocrine_agent": "fulvestrant",
                    "cdk46_inhibitor": "",
                    "previous_end_reason": "progression",
                }
            )
            regimen_receive(
                patient=patient,
                started_on=dt.date(2026, 11, 21),
                acting_user=self.oncologists[0],
                **regimen,
            )
        elif kind == "state":
            patient_change(
                patient=patient,
                acting_user=self.oncologists[0],
                changes={"surveillance_state": event[2]},
            )
        elif kind == "oncologist":
            patient.refresh_from_db()
            other = next(o for o in self.oncologists if o.pk != patient.oncologist_id)
            patient_change(
                patient=patient, acting_user=self.oncologists[0], changes={"oncologist": other}
            )
        elif kind in ("collect", "miss", "cancel_draw"):
            draw = self.open_draw(event[1])
            if draw is None:
                return
            if kind == "collect":
                self.collections += 1
                scheduling.draw_collect(
                    draw=draw,
                    collected_at=NOW - dt.timedelta(minutes=60 - self.collections),
                    accession=f"ACC-N{self.collections:03d}",
                    acting_user=self.nurse,
                )
            elif kind == "miss":
                scheduling.draw_mark_missed(
                    draw=draw, reason="did_not_attend", acting_user=self.nurse
                )
            else:
                scheduling.draw_cancel(
                    draw=draw, reason="patient_request", comment="moved", acting_user=self.nurse
                )
        elif kind == "undo":
            draw = (
                Draw.objects.filter(
                    patient=patient, state=Draw.State.COLLECTED, collected_by=self.nurse
                )
                .order_by("-collected_at")
                .first()
            )
            if draw is not None:
                scheduling.draw_collect_undo(draw=draw, acting_user=self.nurse)
        elif kind == "plan":  # the daily planner, some days on
            draws_plan_and_reconcile(today=NOW.date() + dt.timedelta(days=event[1]))
        elif kind == "decide":
            alert = (
                Alert.objects.filter(patient=patient, state__in=Alert.PENDING_STATES)
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
            }[event[2]]
            alert_acknowledge(
                alert=alert, decision=event[2], acting_user=alert.patient.oncologist, **fields
            )


def comparable(m) -> dict:
    """A CohortMetrics as plain values (frames as sorted records)."""

    def records(frame):
        return sorted(tuple(r) for r in frame.itertuples(index=False))

    return {
        "states": records(m.states),
        "adherence": records(m.adherence),
        "detection": records(m.detection),
        "response_hours": m.response_hours,
        "decisions": records(m.decisions),
        "open": (m.alerts_open, m.alerts_escalated),
        "lead_days": m.lead_days,
        "lead_summary": m.lead_time_summary,
    }


WIDEST = (dt.date(2026, 1, 1), dt.date(2027, 6, 30))


def assert_figures_match(world, *, every_filter: bool = True) -> None:
    """Every filter (each oncologist and range), today and after the open draws' windows have
    closed; or, between the steps of a sequence, the whole cohort over the widest range
    (cheaper; the sequence's end checks every filter)."""
    if not every_filter:
        _assert_figures_match(world, oncologists=(None,), ranges=[WIDEST])
        return
    for later in (0, 75):
        with time_machine.travel(NOW + dt.timedelta(days=later), tick=False):
            _assert_figures_match(world)


def _assert_figures_match(world, oncologists=None, ranges=None) -> None:
    if oncologists is None:
        oncologists = (None, *(o.pk for o in world.oncologists))
    for onc in oncologists:
        for start, end in ranges or [*RANGES, WIDEST]:
            filters = Filters(date_from=start, date_to=end, oncologist_id=onc)
            fast = cohort_metrics(filters, lead_rows=True)
            slow = cohort_metrics_from_scratch(filters)
            assert comparable(fast) == comparable(slow), (onc, start, end)
            assert sorted(map(tuple, fast.lead_time.itertuples(index=False))) == sorted(
                map(tuple, slow.lead_time.itertuples(index=False))
            )


def tables() -> dict:
    return {
        "days": sorted(
            CohortDay.objects.exclude(due=0, in_window=0).values_list(
                "oncologist_id", "day", "due", "in_window"
            )
        ),
        "states": sorted(
            CohortState.objects.exclude(patients=0).values_list(
                "oncologist_id", "state", "patients"
            )
        ),
        "alerts": sorted(
            CohortAlert.objects.values_list(
                "alert_id",
                "patient_id",
                "oncologist_id",
                "opened_at",
                "kind",
                "state",
                "decision",
                "reason_code",
                "escalation_level",
                "decided_at",
            )
        ),
        "patients": sorted(
            CohortPatient.objects.values_list(
                "patient_id", "oncologist_id", "first_tested_on", "first_esr1_on", "progression_on"
            )
        ),
    }


@pytest.fixture
def oncologists(oncologist):
    return [oncologist, UserFactory(username="dr_second", role="oncologist")]


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(events, min_size=1, max_size=10))
def test_precomputed_figures_equal_the_base_tables_after_any_changes(
    sequence, oncologists, nurse, lab_user
):
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        world = World(oncologists, nurse, lab_user)
        for event in sequence:
            world.apply(event)
            assert_figures_match(world, every_filter=False)
        assert_figures_match(world)
        kept = tables()
        with transaction.atomic():
            cohort_rebuild()
            assert tables() == kept, sequence
            transaction.set_rollback(True)
        transaction.set_rollback(True)


UPLOAD_HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,tumor_fraction,gene,hgvs_p,vaf_percent,depth"
)


def test_a_lab_file_refreshes_the_figures_of_its_patients(lab_token_api, oncologist, nurse):
    """The upload's storing transaction refreshes its patients set-based (no worker needed
    for the dashboard): the ESR1 detections of the file are counted at once."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = []
    for n in range(4):
        patient = PatientFactory(
            mrn=f"MRN-U{n}", date_of_birth=dt.date(1960, 1, 1), oncologist=oncologist
        )
        scheduling.draws_plan(patient_ids=[patient.pk])
        scheduling.draw_collect(
            draw=Draw.objects.get(patient=patient, state="scheduled"),
            collected_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=LONDON),
            accession=f"ACC-U{n}",
            acting_user=nurse,
        )
        gene, protein, vaf = ("ESR1", "D538G", "0.42") if n < 3 else ("", "", "")
        rows.append(
            f"R-{n},1,final,ACC-U{n},MRN-U{n},1960-01-01,2026-11-02,2026-11-10,G360,pass,0.02,"
            f"{gene},{protein},{vaf},{'12000' if gene else ''}"
        )
    body = ("\n".join([UPLOAD_HEADER, *rows]) + "\n").encode()
    response = lab_token_api.post(
        "/api/v1/reports/upload/",
        {"file": SimpleUploadedFile("batch.csv", body, "text/csv")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    filters = Filters(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))
    fast = cohort_metrics(filters)
    assert dict(zip(fast.detection["kind"], fast.detection["patients"], strict=True)) == {
        "first draw": 3,
        "emergent": 0,
    }
    assert comparable(fast) == comparable(cohort_metrics_from_scratch(filters))


def test_the_rebuild_command_recomputes_what_was_lost(oncologists, nurse, lab_user):
    from django.core.management import call_command

    with time_machine.travel(NOW, tick=False):
        world = World(oncologists, nurse, lab_user)
        world.apply(("store", 0, 0, "d538g"))
        kept = tables()
        assert all(kept.values())
        CohortDay.objects.all().delete()
        CohortPatient.objects.all().delete()
        CohortAlert.objects.all().delete()
        CohortState.objects.update(patients=7)
        call_command("cohort_rebuild", stdout=open(os.devnull, "w"))  # noqa: SIM115
        assert tables() == kept
