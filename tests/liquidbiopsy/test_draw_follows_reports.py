"""A draw's state is what all of its current reports say, not what the last one said.

A draw can carry more than one report chain (a second assay, a re-run the lab sends under a
new report id). The draw is `resulted` while any current, uncancelled report of it passed QC;
`failed` (a redraw due) only when every such report failed; `collected` (awaiting a result)
when none is left. Before, each report moved the draw on its own: a failing second chain
failed a draw whose passing result stood (an unneeded redraw replaced her regular draw), and
a cancelled chain took a standing failure's redraw away.
"""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liquidbiopsy.models import LabReport
from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, URL, payload, send_file
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PASSING = payload()
FAILING = payload(report_id="G360-RERUN-1", qc_status="fail", variants=[])


def _post(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()


def _open_draws(patient):
    return list(
        Draw.objects.filter(patient=patient, state="scheduled").values_list("is_redraw", flat=True)
    )


def test_a_failing_second_chain_leaves_a_resulted_draw_resulted(lab_token_api, collected):
    _post(lab_token_api, PASSING)
    _post(lab_token_api, FAILING)
    collected.refresh_from_db()
    assert collected.state == "resulted"
    assert _open_draws(collected.patient) == [False]  # her regular draw, no redraw


def test_the_same_through_a_file(lab_token_api, collected):
    _post(lab_token_api, PASSING)
    response = send_file(lab_token_api, FAILING)
    assert response.status_code in (200, 201), response.json()
    assert response.json()["state"] == "done", response.json()
    collected.refresh_from_db()
    assert collected.state == "resulted"
    assert _open_draws(collected.patient) == [False]


def test_cancelling_one_of_two_failures_keeps_the_redraw(lab_token_api, collected):
    _post(lab_token_api, payload(qc_status="fail", variants=[]))
    _post(lab_token_api, payload(report_id="G360-RERUN-1", qc_status="insufficient", variants=[]))
    _post(lab_token_api, payload(version=2, status="cancelled", qc_status="fail", variants=[]))
    collected.refresh_from_db()
    assert collected.state == "failed"
    assert _open_draws(collected.patient) == [True]  # the redraw stands


def test_cancelling_the_passing_chain_leaves_the_failure_standing(lab_token_api, collected):
    _post(lab_token_api, PASSING)
    _post(lab_token_api, FAILING)
    _post(lab_token_api, payload(version=2, status="cancelled", variants=[]))
    collected.refresh_from_db()
    assert (collected.state, collected.reason_code) == ("failed", "fail")
    assert _open_draws(collected.patient) == [True]  # the failure now calls for a redraw


def test_a_correction_to_another_draw_leaves_the_failure_standing(lab_token_api, collected, nurse):
    other = PatientFactory(mrn="MRN-0002", date_of_birth=dt.date(1950, 1, 1))
    scheduling.draws_plan(patient_ids=[other.pk])
    scheduling.draw_collect(
        draw=Draw.objects.get(patient=other, state="scheduled"),
        collected_at=dt.datetime(2026, 11, 2, 8, 45, tzinfo=LONDON),
        accession="ACC-000999",
        acting_user=nurse,
    )
    _post(lab_token_api, PASSING)
    _post(lab_token_api, FAILING)
    _post(
        lab_token_api,
        payload(
            version=2,
            status="corrected",
            accession="ACC-000999",
            patient={"mrn": "MRN-0002", "date_of_birth": "1950-01-01"},
        ),
    )
    collected.refresh_from_db()
    assert (collected.state, collected.reason_code) == ("failed", "fail")


# --- The invariant, over any sequence of versions of three chains on one draw -------------

CHAINS = ("CH-A", "CH-B", "CH-C")
EVENT = st.tuples(
    st.sampled_from(CHAINS),
    st.sampled_from(["final", "amended", "corrected", "cancelled"]),
    st.sampled_from(["pass", "fail", "insufficient"]),
)


def _expected(draw) -> str:
    current = LabReport.objects.filter(draw=draw, is_current=True).exclude(status="cancelled")
    qcs = set(current.values_list("qc_status", flat=True))
    if "pass" in qcs:
        return "resulted"
    return "failed" if qcs else "collected"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(EVENT, min_size=1, max_size=6))
def test_the_draw_always_says_what_its_current_reports_say(lab_token_api, nurse, events):
    n = Draw.objects.count()
    patient = PatientFactory(mrn=f"MRN-H{n}", date_of_birth=dt.date(1960, 1, 1))
    scheduling.draws_plan(patient_ids=[patient.pk])
    draw = scheduling.draw_collect(
        draw=Draw.objects.get(patient=patient, state="scheduled"),
        collected_at=dt.datetime(2026, 11, 2, 8, 30, tzinfo=LONDON),
        accession=f"ACC-H{n}",
        acting_user=nurse,
    )
    versions: dict[str, int] = {}
    for chain, status, qc in events:
        versions[chain] = versions.get(chain, 0) + 1
        body = payload(
            report_id=f"{chain}-{n}",
            version=versions[chain],
            status=status,
            qc_status=qc,
            accession=f"ACC-H{n}",
            patient={"mrn": f"MRN-H{n}", "date_of_birth": "1960-01-01"},
        )
        if status == "cancelled" or qc != "pass":
            body["variants"] = []
        _post(lab_token_api, body)
        draw.refresh_from_db()
        assert draw.state == _expected(draw), (events, versions)
        redraws = Draw.objects.filter(patient=patient, state="scheduled", is_redraw=True)
        assert redraws.exists() == (draw.state == "failed"), events
