"""A lab file stored between alert_acknowledge's reconcile and its decision (a break-it
probe): the file cancels the only report behind the alert and its reconcile is owed. The
decision finds the debt under her row lock, reconciles again and refuses the switch (409),
therapy unchanged; before the fix the switch was accepted on retracted evidence."""

import pytest

from clinic.workflows import upload_receive
from liquidbiopsy.models import Upload
from patients.models import Regimen
from tests.builders import ack, csv_of, payload, post_report
from therapy import decisions
from therapy.models import Alert, ReconcileOwed

pytestmark = pytest.mark.django_db


def test_a_file_stored_between_the_reconcile_and_the_decision_refuses_the_switch(
    lab_token_api, oncologist_api, eligible, lab_user, monkeypatch
):
    post_report(lab_token_api, payload())
    alert = Alert.objects.get()
    real = decisions._alert_decide
    landed = []

    def file_lands_in_the_gap(**kwargs):
        if not landed:  # once, between the first reconcile and the first decision
            up = upload_receive(
                filename="f.csv",
                data=csv_of(payload(version=2, status="cancelled", variants=[])),
                lab_account=lab_user,
            )
            assert up.state == Upload.State.DONE, up.errors
            assert ReconcileOwed.objects.filter(patient=eligible).exists()
            landed.append(up)
        return real(**kwargs)

    monkeypatch.setattr(decisions, "_alert_decide", file_lands_in_the_gap)
    r = ack(oncologist_api, alert, decision="switch", effective_on="2026-11-24")
    current = Regimen.objects.get(patient=eligible, ended_on__isnull=True)
    assert (r.status_code, current.endocrine_agent) == (409, "letrozole"), r.json()
    alert.refresh_from_db()
    assert alert.state == "withdrawn"  # the file's cancellation was judged before deciding
    assert not ReconcileOwed.objects.filter(patient=eligible).exists()
