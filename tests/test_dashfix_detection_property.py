"""The precomputed ESR1 detections equal the from-scratch ones (and the rebuild's) after any
sequence of report stores, amendments, cancellations and moves whose ESR1 calls may be
filtered, off the allow-list or mixed (tests/test_cohort_precompute.py's world, with more
kinds of call): the refresh's second statement runs exactly when a candidate does not count.
PROPERTY_EXAMPLES raises the number of sequences (default 25)."""

from __future__ import annotations

import os

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.cohort import cohort_rebuild
from tests import test_cohort_precompute as base
from tests.builders import payload, variant
from tests.factories import UserFactory

pytestmark = base.pytestmark

VARIANTS = {
    **base.VARIANTS,
    "filtered": [variant(vaf_percent=1.2, filter="strand_bias")],
    "off_list": [
        variant(
            hgvs_p="p.Glu380Lys",
            hgvs_c=None,
            genome_build=None,
            chrom=None,
            pos=None,
            ref=None,
            alt=None,
        )
    ],
    "mixed": [
        variant(vaf_percent=1.2, filter="strand_bias"),
        variant(
            hgvs_p="p.Tyr537Ser",
            hgvs_c="c.1610A>C",
            pos=152098788,
            ref="A",
            alt="C",
            vaf_percent=0.8,
        ),
    ],
}


@pytest.fixture
def oncologists(oncologist):
    return [oncologist, UserFactory(username="dr_second", role="oncologist")]


class World(base.World):
    def send(self, chain: dict, status: str) -> None:
        i, d = chain["patient"], chain["draw"]
        body = payload(
            report_id=chain["report_id"],
            version=chain["version"],
            status=status,
            accession=f"ACC-{i}{d}",
            patient={"mrn": f"MRN-P{i}", "date_of_birth": f"{1960 + i}-01-01"},
            collected_on=base.DAYS[d].isoformat(),
            reported_on="2026-11-23",
            variants=[] if status == "cancelled" else VARIANTS[chain["variants"]],
        )
        base.report_receive(payload=body, lab_account=self.lab)


kinds = st.sampled_from(sorted(VARIANTS))
events = st.one_of(
    st.tuples(st.just("store"), base.patient_ix, st.integers(0, 2), kinds),
    st.tuples(st.just("amend"), st.integers(0, 5), kinds),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5)),
    st.tuples(
        st.just("scan"),
        base.patient_ix,
        st.sampled_from([base.DAYS[0], base.DAYS[2]]),
        st.sampled_from(["no_progression", "progression"]),
    ),
)


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(events, min_size=1, max_size=8))
def test_detections_stay_equal_to_the_base_tables_whatever_the_calls(
    sequence, oncologists, nurse, lab_user
):
    with time_machine.travel(base.NOW, tick=False), transaction.atomic():
        world = World(oncologists, nurse, lab_user)
        for event in sequence:
            world.apply(event)
            base.assert_figures_match(world, every_filter=False)
        base.assert_figures_match(world)
        kept = base.tables()
        with transaction.atomic():
            cohort_rebuild()
            assert base.tables() == kept, sequence
            transaction.set_rollback(True)
        transaction.set_rollback(True)
