"""The patient page as a clinician reads it (page review, pagerev)."""

import datetime as dt

import pytest
import time_machine

from tests.builders import LONDON
from tests.factories import PatientFactory, RegimenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evening_in_the_clinic():
    with time_machine.travel(dt.datetime(2026, 12, 2, 20, 41, tzinfo=LONDON), tick=False):
        yield


def _current_regimen_line(client, user, started_on) -> str:
    patient = PatientFactory(oncologist=user)
    RegimenFactory(patient=patient, started_on=started_on)
    client.force_login(user)
    html = client.get(f"/patients/{patient.pk}/").content.decode().replace("\xa0", " ")
    start = html.index("<h2>Current regimen</h2>")
    return html[start : html.index("</section>", start)]


def test_a_regimen_started_today_reads_today_not_hours_and_minutes(client, oncologist):
    section = _current_regimen_line(client, oncologist, dt.date(2026, 12, 2))
    assert "since 2 Dec 2026 (started today)" in section
    assert "hours" not in section
    assert "minutes" not in section


def test_a_regimen_starting_later_says_when_it_starts(client, oncologist):
    section = _current_regimen_line(client, oncologist, dt.date(2026, 12, 20))
    assert "from 20 Dec 2026 (starts in 18 days)" in section
    assert "minutes" not in section


def test_time_on_a_regimen_counts_in_clinic_days(client, oncologist):
    section = _current_regimen_line(client, oncologist, dt.date(2025, 4, 21))
    assert "since 21 Apr 2025 (1 year, 7 months)" in section
