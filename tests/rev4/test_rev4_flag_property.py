"""The flag of a decided alert, as a property over any sequence of amended versions of its
report (D538G at 0.42 %, 1.5 %, 5 %, or gone): a version flags the decision exactly when the way
its evidence differs from the decision's is not the way it differed at the last flag (rev4 F4:
the same difference again flags nothing; rev5 F2: a difference that comes back after another
one does flag). The oncologist reviews after every flag."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import ack, eligible_patient, payload, pending, post_report, variant
from therapy.decisions import alert_review

pytestmark = pytest.mark.django_db
RESULTS = st.sampled_from([0.42, 1.5, 5.0, None])  # None: the version reports no ESR1


def _difference(vaf):
    return frozenset() if vaf in (0.42,) else frozenset({vaf})


_n = [0]


def _eligible(oncologist, nurse):
    """A fresh eligible patient with a collected draw for each example."""
    _n[0] += 1
    return eligible_patient(f"P{_n[0]:05d}", oncologist, nurse)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(results=st.lists(RESULTS, min_size=1, max_size=5))
def test_a_version_flags_exactly_when_its_difference_is_new(
    results, lab_token_api, oncologist_api, oncologist, nurse
):
    patient, ids = _eligible(oncologist, nurse)
    post_report(lab_token_api, payload(**ids))
    (alert,) = pending(patient)
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 200
    )
    last_flagged = frozenset()
    for version, vaf in enumerate(results, start=2):
        variants = [] if vaf is None else [variant(vaf_percent=vaf)]
        post_report(
            lab_token_api, payload(**ids, version=version, status="amended", variants=variants)
        )
        alert.refresh_from_db()
        difference = _difference(vaf)
        expected = bool(difference) and difference != last_flagged
        assert alert.flagged_for_review is expected, (results, version, alert.flag_detail)
        if expected:
            last_flagged = difference
            alert_review(alert=alert, acting_user=oncologist, note="Reviewed.")
