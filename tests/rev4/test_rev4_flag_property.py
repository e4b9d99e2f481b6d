"""The flag of a decided alert, as a property over any sequence of amended versions of its
report (D538G at 0.42 %, 1.5 %, 5 %, or gone): a version flags the decision exactly when the way
its evidence differs from the decision's is not the way it differed at the last flag (rev4 F4:
the same difference again flags nothing; rev5 F2: a difference that comes back after another
one does flag). The oncologist reviews after every flag."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import ack, collect, payload, pending, post_report, variant
from tests.factories import PatientFactory, RegimenFactory, ScanFactory
from therapy.decisions import alert_review

pytestmark = pytest.mark.django_db
RESULTS = st.sampled_from([0.42, 1.5, 5.0, None])  # None: the version reports no ESR1


def _difference(vaf):
    return frozenset() if vaf in (0.42,) else frozenset({vaf})


_n = [0]


def _eligible(oncologist, nurse):
    """A fresh eligible patient with a collected draw for each example."""
    _n[0] += 1
    n = _n[0]
    patient = PatientFactory(
        mrn=f"MRN-P{n:05d}",
        date_of_birth=dt.date(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=dt.date(2026, 5, 2),
    )
    RegimenFactory(
        patient=patient,
        endocrine_agent="letrozole",
        cdk46_inhibitor="palbociclib",
        started_on=dt.date(2025, 11, 2),
    )
    ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20), outcome="no_progression")
    collect(patient, f"ACC-P{n:05d}", dt.date(2026, 11, 2), nurse)
    return patient, {
        "report_id": f"G360-P{n:05d}",
        "accession": f"ACC-P{n:05d}",
        "patient": {"mrn": f"MRN-P{n:05d}", "date_of_birth": "1961-04-02"},
    }


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
