"""facts_snapshot (stored with every alert and decision) is what asdict gave, made JSON-safe."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from therapy.reconcile import _plain, facts_snapshot
from therapy.rules import Esr1Call, SwitchFacts

calls = st.lists(
    st.builds(
        Esr1Call,
        hgvs_p=st.sampled_from(["p.Asp538Gly", "p.Tyr537Ser", ""]),
        vaf=st.decimals(min_value=Decimal("0.0001"), max_value=1, places=6),
        pos=st.one_of(st.none(), st.integers(1, 10**9)),
        filter=st.sampled_from(["", "PASS", "weak_evidence"]),
    ),
    max_size=3,
).map(tuple)
days = st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))
maybe_days = st.one_of(st.none(), days)
declined = st.lists(
    st.tuples(
        st.sampled_from(["review", "switch_recommended"]),
        st.lists(
            st.tuples(st.just("p.Asp538Gly"), st.decimals(min_value=0, max_value=1, places=4)),
            max_size=2,
        ).map(tuple),
    ),
    max_size=2,
).map(tuple)


@given(
    facts=st.builds(
        SwitchFacts,
        report_status=st.sampled_from(["final", "amended"]),
        qc_status=st.just("pass"),
        esr1_calls=calls,
        collected_on=days,
        surveillance_state=st.sampled_from(["active", "paused"]),
        regimen_id=st.one_of(st.none(), st.integers(1, 99)),
        endocrine_agent=st.one_of(st.none(), st.just("letrozole")),
        cdk46_inhibitor=st.one_of(st.none(), st.just("palbociclib")),
        line_started_on=maybe_days,
        months_on_line=st.one_of(st.none(), st.integers(0, 99)),
        line_progressed=st.booleans(),
        latest_scan_on=maybe_days,
        latest_scan_outcome=st.one_of(st.none(), st.just("no_progression")),
        declined=declined,
    )
)
def test_snapshot_is_asdict_made_json_safe(facts):
    assert facts_snapshot(facts) == _plain(dataclasses.asdict(facts))
