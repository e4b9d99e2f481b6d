"""Why an alert was withdrawn, in words that are true for her state (review brk3 C4): a patient
whose start date was moved ahead is awaiting surveillance, not one whose surveillance ended."""

import pytest

from therapy.models import Alert
from therapy.presentation import withdrawn_text


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("awaiting_minimum_duration", "her surveillance has not started yet"),
        ("deceased", "the patient's surveillance ended"),
        ("withdrawn", "the patient's surveillance ended"),
        ("off_therapy", "the patient's surveillance ended"),
        ("post_switch", "post-switch monitoring"),
        ("progressed", "the patient's surveillance is not active"),
    ],
)
def test_a_withdrawal_for_her_state_says_what_her_state_is(state, words):
    first = withdrawn_text("patient_state", {"state": state})[0]
    assert words in first, first


def test_the_notice_label_is_true_of_every_state_that_withdraws():
    assert Alert.WithdrawnReason.PATIENT_STATE.label == "The patient's surveillance is not active"
