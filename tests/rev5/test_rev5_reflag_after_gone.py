"""9e5900f compares a new change with EVERY change ever flagged on the alert, without its
version. A change that was flagged and reviewed once, then superseded by a different reviewed
state, is hidden when it comes back: v2 D538G 1.50 % (flagged, reviewed), v3 the variant gone
(flagged, reviewed: she now believes there is no ESR1 call), v4 D538G 1.50 % again. The
evidence is no longer what she last reviewed, it is materially changed from the decision
(DESIGN §5), yet nothing flags and nobody is told."""

import pytest

from tests.builders import ack, payload, pending, post_report, variant
from therapy.decisions import alert_review

pytestmark = pytest.mark.django_db


def _review(alert, oncologist, note):
    alert.refresh_from_db()
    assert alert.flagged_for_review, alert.flag_detail
    alert_review(alert=alert, acting_user=oncologist, note=note)
    alert.refresh_from_db()
    assert not alert.flagged_for_review


def test_a_change_back_to_a_result_reviewed_before_a_later_review_flags_again(
    eligible, lab_token_api, oncologist_api, oncologist
):
    post_report(lab_token_api, payload())  # D538G 0.42 %
    (alert,) = pending(eligible)
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 200
    )
    risen = [variant(vaf_percent=1.5)]
    post_report(lab_token_api, payload(version=2, status="amended", variants=risen))
    _review(alert, oncologist, "VAF rose, switch stands.")

    post_report(lab_token_api, payload(version=3, status="amended", variants=[]))
    _review(alert, oncologist, "No ESR1 now: an artefact; will discuss reverting.")

    # v4: the lab withdraws its v3 correction, D538G at 1.50 % again.
    post_report(lab_token_api, payload(version=4, status="amended", variants=risen))
    alert.refresh_from_db()
    assert alert.flagged_for_review, (
        "ESR1 back at 1.50% after a review that saw it gone is not flagged",
        alert.flag_detail,
    )
