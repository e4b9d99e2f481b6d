"""A lab file's reports are stored while their alert reconcile is still owed
(therapy/owed.py: paid by a worker or the work sweep). Until it is paid, the patient page shows
"ESR1 mutation detected: p.Asp538Gly" beside "No alert so far." - words that say the rule
found nothing, when it has not run. With the worker or broker down (DESIGN §8: the sweep picks
the work up later) this lasts as long as the outage.

DESIGN §5: "Every event that can change the answer re-runs the reconcile for that patient
... Invariant: after any sequence of events, the pending alerts equal what a from-scratch
reconcile of the patient's current facts gives."  The brief's bar: every state visible, no
contradictory words. Found by the brk4 review (F1)."""

import pytest
from django.test import Client

from tests.builders import payload, send_file
from therapy.models import Alert, ReconcileOwed
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db


def _page(oncologist, patient) -> str:
    client = Client()
    client.force_login(oncologist)
    return client.get(f"/patients/{patient.pk}/").content.decode()


def test_a_patient_page_with_an_owed_reconcile_does_not_say_no_alert(
    her, drawn, lab_token_api, oncologist
):
    drawn(her)
    assert send_file(lab_token_api, payload()).status_code == 201
    assert ReconcileOwed.objects.filter(patient=her).exists()
    assert not Alert.objects.filter(patient=her).exists()  # the worker has not paid it yet
    html = _page(oncologist, her)
    assert "p.Asp538Gly" in html
    assert "No alert so far" not in html, "the rule has not run: the page must say it is owed"
    assert "are not yet judged by the switch rule" in html
    # Once paid, the alert is there (the test's premise holds).
    reconcile_owed_run()
    assert Alert.objects.filter(patient=her, kind="switch_recommended").exists()
    html = _page(oncologist, her)
    assert 'id="reconcile-owed"' not in html  # paid: the warning goes
