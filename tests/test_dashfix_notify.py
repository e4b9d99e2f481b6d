"""What an alert's notice says: a withdrawn alert asks for no decision; articles read right."""

import datetime as dt

import pytest

from notifications.models import Notification
from therapy.models import Alert
from therapy.notify import alert_notify, noun, noun_with_article

pytestmark = pytest.mark.django_db


def _alert(patient, kind, state="open"):
    return Alert.objects.create(
        patient=patient,
        kind=kind,
        state=state,
        rule_version="serena6-v2",
        facts_snapshot={},
        opened_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
    )


def _bodies(alert) -> set[str]:
    return set(
        Notification.objects.filter(key__startswith=f"alert:{alert.pk}:").values_list(
            "body", flat=True
        )
    )


def test_a_withdrawn_alert_notice_asks_for_no_decision(patient):
    alert = _alert(patient, Alert.Kind.SWITCH_RECOMMENDED, state="withdrawn")
    alert_notify(alert, "withdrawn", "A switch alert was withdrawn: evidence retracted")
    bodies = _bodies(alert)
    assert bodies, "no notice written"
    for body in bodies:
        assert "record your decision" not in body
        assert "nothing to decide" in body


def test_an_open_alert_notice_still_asks_for_the_decision(patient):
    alert = _alert(patient, Alert.Kind.SWITCH_RECOMMENDED)
    alert_notify(alert, "opened", "A new switch alert needs your decision")
    assert all("record your decision" in b for b in _bodies(alert))


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (Alert.Kind.SWITCH_RECOMMENDED, "a switch alert"),
        (Alert.Kind.REVIEW, "an early-ESR1 review alert"),
        (Alert.Kind.ESR1_WITH_PROGRESSION, "an ESR1-with-progression alert"),
    ],
)
def test_the_article_fits_the_noun(kind, expected):
    alert = Alert(kind=kind)
    assert noun_with_article(alert) == expected
    assert noun_with_article(alert, capital=True) == expected[0].upper() + expected[1:]
    assert expected.endswith(noun(alert))
