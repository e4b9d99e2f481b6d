"""rules.confirmation_needed: whether a switch needs confirmatory imaging (DESIGN §5 clause 4),
as properties over any scans: her latest imaging since the blood test decides; with none, the
rule's flag as of collection stands."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from therapy.rules import confirmation_needed

COLLECTED = dt.date(2026, 11, 2)
OUTCOMES = st.sampled_from(["no_progression", "indeterminate", "progression"])
DAYS = st.dates(min_value=dt.date(2026, 9, 1), max_value=dt.date(2026, 12, 31))
SCANS = st.lists(st.tuples(DAYS, OUTCOMES), max_size=6)


@given(flagged=st.booleans(), scans=SCANS)
def test_a_newer_clear_scan_after_the_blood_test_always_confirms(flagged, scans):
    newest = max([COLLECTED, *(day for day, _ in scans)]) + dt.timedelta(days=1)
    assert not confirmation_needed(flagged, [*scans, (newest, "no_progression")], COLLECTED)


@given(
    flagged=st.booleans(), scans=SCANS, outcome=st.sampled_from(["indeterminate", "progression"])
)
def test_an_unclear_scan_on_the_newest_day_always_needs_confirmation(flagged, scans, outcome):
    newest = max([COLLECTED, *(day for day, _ in scans)])
    assert confirmation_needed(flagged, [*scans, (newest, outcome)], COLLECTED)


@given(flagged=st.booleans(), scans=SCANS)
def test_scans_before_the_blood_test_leave_the_rules_flag(flagged, scans):
    before = [(day, outcome) for day, outcome in scans if day < COLLECTED]
    assert confirmation_needed(flagged, before, COLLECTED) is flagged


@given(flagged=st.booleans(), scans=SCANS)
def test_the_order_scans_were_recorded_in_does_not_matter(flagged, scans):
    assert confirmation_needed(flagged, scans, COLLECTED) == confirmation_needed(
        flagged, list(reversed(scans)), COLLECTED
    )
