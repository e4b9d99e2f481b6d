"""Declines (DESIGN §5): "After a decline, the same variants persisting do not re-alert the same
kind; a new ESR1 variant, or an allele fraction rising by at least a configurable factor
(default 2), does."  The declined alert rested on several reports; declining it must not
re-open an alert on evidence the oncologist just saw and declined."""

import datetime as dt

import pytest

from tests.builders import ack, later_report, payload, pending, post_report, variant
from therapy.models import Alert

pytestmark = pytest.mark.django_db


def test_declining_an_alert_whose_vaf_fell_does_not_reopen_it_on_the_older_report(
    lab_token_api, eligible, nurse, oncologist_api
):
    # 2 Nov: D538G at 2.0%; 20 Nov: D538G at 0.42% (falling). One switch alert, two reports.
    post_report(lab_token_api, payload(variants=[variant(vaf_percent=2.0)]))
    post_report(lab_token_api, later_report(eligible, nurse, variants=[variant(vaf_percent=0.42)]))
    alert = Alert.objects.get()
    assert alert.evidence.count() == 2
    declined = ack(oncologist_api, alert, decision="decline", reason_code="patient_preference")
    assert declined.status_code == 200, declined.json()
    # Nothing new arrived: the same variant, at allele fractions the oncologist has seen.
    assert list(pending(eligible)) == []


def test_declining_an_alert_with_two_reports_of_different_variants_reopens_nothing(
    lab_token_api, eligible, nurse, oncologist_api
):
    y537s = variant(
        hgvs_p="p.Tyr537Ser", hgvs_c="c.1610A>C", pos=152098788, ref="A", alt="C",
        vaf_percent=0.3,
    )  # fmt: skip
    post_report(lab_token_api, payload(variants=[y537s]))  # 2 Nov: Y537S
    post_report(lab_token_api, later_report(eligible, nurse))  # 20 Nov: D538G
    alert = Alert.objects.get()
    assert alert.evidence.count() == 2
    declined = ack(oncologist_api, alert, decision="decline", reason_code="patient_preference")
    assert declined.status_code == 200, declined.json()
    assert list(pending(eligible)) == []


def test_after_a_decline_a_new_variant_on_a_later_draw_re_alerts(
    lab_token_api, eligible, nurse, oncologist_api
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    assert (
        ack(oncologist_api, alert, decision="decline", reason_code="toxicity_concern").status_code
        == 200
    )
    y537s = variant(
        hgvs_p="p.Tyr537Ser", hgvs_c="c.1610A>C", pos=152098788, ref="A", alt="C",
        vaf_percent=0.3,
    )  # fmt: skip
    # The same D538G persisting plus a new Y537S: a new switch alert.
    answer = post_report(
        lab_token_api,
        later_report(eligible, nurse, day=dt.date(2026, 11, 20), variants=[variant(), y537s]),
    )
    assert [a["kind"] for a in answer["alerts"]] == ["switch_recommended"]
    (again,) = pending(eligible)
    assert again.pk != alert.pk
