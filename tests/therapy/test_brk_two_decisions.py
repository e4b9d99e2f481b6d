"""brk probe: a switch and a decline on one alert at the same moment, in two threads, with no
revision sent: one 200 and one 409, and therapy matches the decision that won."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connections
from rest_framework.test import APIClient

from accounts.roles import Role
from patients.models import Regimen
from tests.builders import LONDON, collect, payload
from tests.factories import PatientFactory, RegimenFactory, ScanFactory, UserFactory
from therapy.models import Alert

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_switch_and_a_decline_at_once_give_one_200_and_one_409():
    onc = UserFactory(username="dr_two", role=Role.ONCOLOGIST)
    nurse = UserFactory(username="nurse_two", role=Role.NURSE)
    lab = UserFactory(username="lab_two", role=Role.LAB)
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=LONDON), tick=False):
        patient = PatientFactory(
            mrn="MRN-0001",
            date_of_birth=dt.date(1961, 4, 2),
            oncologist=onc,
            surveillance_start_on=dt.date(2026, 5, 2),
        )
        RegimenFactory(patient=patient, started_on=dt.date(2025, 11, 2))
        ScanFactory(patient=patient, performed_on=dt.date(2026, 10, 20))
        collect(patient, "ACC-000123", dt.date(2026, 11, 2), nurse)
        lab_api = APIClient()
        lab_api.force_authenticate(lab)
        assert lab_api.post("/api/v1/reports/", payload(), format="json").status_code == 201
        alert = Alert.objects.get()
        bodies = [
            {"decision": "switch", "effective_on": "2026-11-24"},
            {"decision": "decline", "reason_code": "patient_preference"},
        ]
        codes = {}
        barrier = threading.Barrier(2)

        def run(body):
            api = APIClient()
            api.force_authenticate(onc)
            try:
                barrier.wait(timeout=10)
                r = api.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", body, format="json")
                codes[body["decision"]] = r.status_code
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(codes.values()) == [200, 409], codes
    alert.refresh_from_db()
    current = Regimen.objects.get(patient=patient, ended_on__isnull=True)
    if alert.state == "accepted":
        assert current.endocrine_agent == "camizestrant"
    else:
        assert alert.state == "declined"
        assert current.endocrine_agent == "letrozole"
