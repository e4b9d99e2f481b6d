"""rev4: a8e9c32 adds the review of a flagged decision ("the flag clears ... a later material
change flags the alert again"). But the change is still measured against the evidence at the
DECISION, and flag() dedupes by the change's text, which names the version: a later amendment
that repeats, word for word, the result the oncologist just reviewed (v3 = v2, say a corrected
assay name) re-flags the alert and puts it back in her inbox. DESIGN §5: "an amendment that
leaves the evidence as it was flags nothing"."""

import pytest

from tests.builders import ack, payload, pending, post_report, variant
from therapy.decisions import alert_review
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def test_an_amendment_repeating_the_reviewed_result_does_not_flag_again(
    eligible, lab_token_api, oncologist_api, oncologist
):
    post_report(lab_token_api, payload())  # D538G 0.42 %
    (alert,) = pending(eligible)
    assert (
        ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24").status_code == 200
    )
    risen = [variant(vaf_percent=1.5)]  # 0.42 % -> 1.5 %: material (rise factor 2)
    post_report(lab_token_api, payload(version=2, status="amended", variants=risen))
    alert.refresh_from_db()
    assert alert.flagged_for_review
    alert_review(alert=alert, acting_user=oncologist, note="Seen: VAF rose, switch stands.")
    alert.refresh_from_db()
    assert not alert.flagged_for_review

    # v3: the same result as v2 (the lab corrected the assay name only).
    post_report(
        lab_token_api,
        payload(version=3, status="amended", variants=risen, assay="Guardant360 CDx v2"),
    )
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACCEPTED
    assert not alert.flagged_for_review, alert.flag_detail
