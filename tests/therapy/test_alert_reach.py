"""A new alert reaches a clinician who can act (DESIGN §5 "the oncologist is told"): when her
oncologist's account is deactivated, the escalation contacts are told at once (a sceptical
review found the only notices addressed to the deactivated account)."""

import pytest

from notifications.models import Notification
from tests.builders import payload, pending, post_report

pytestmark = pytest.mark.django_db


def test_a_new_switch_alert_reaches_an_active_user_when_her_oncologist_has_left(
    eligible, lab_token_api, oncologist, admin_user
):
    """Her responsible oncologist's account was deactivated (she left; nobody reassigned the
    patient). A D538G result opens a switch alert: its only notices (in-app and e-mail) are
    addressed to the deactivated account, who can no longer log in. No active user is told
    until the 72 h escalation; the product does not even say the patient has no active
    oncologist."""
    oncologist.is_active = False
    oncologist.save(update_fields=["is_active"])
    post_report(lab_token_api, payload())
    (_alert,) = pending(eligible)
    told = Notification.objects.filter(recipient__is_active=True)
    assert told.exists(), list(
        Notification.objects.values_list("recipient__username", "recipient__is_active")
    )

    subjects = set(told.values_list("subject", flat=True))
    assert all("account is inactive" in s for s in subjects), subjects
    assert set(told.values_list("recipient", flat=True)) == {admin_user.pk}


def test_an_active_oncologist_alone_is_told(eligible, lab_token_api, oncologist, admin_user):
    post_report(lab_token_api, payload())
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {oncologist.pk}
