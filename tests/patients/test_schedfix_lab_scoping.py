"""Lab scoping fails closed: a lab account that LAB_ACCOUNTS lists in no lab sees and reports
on no draw (it is not DEFAULT_LAB's), and the admin is told, in the answer and the log, what
is misconfigured. With LAB_ACCOUNTS empty (one lab) every lab account is DEFAULT_LAB's."""

import datetime as dt
import logging

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_token_issue
from patients import scheduling
from patients.models import Draw
from tests.builders import LONDON, collect, payload
from tests.factories import PatientFactory, RegimenFactory, UserFactory

D = dt.date
LABS = {"central": frozenset({"lab_lims"}), "regional": frozenset({"lab_regional"})}


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


@pytest.fixture
def collected(oncologist, nurse):
    patient = PatientFactory(
        mrn="MRN-0001",
        date_of_birth=D(1961, 4, 2),
        oncologist=oncologist,
        surveillance_start_on=D(2026, 5, 2),
    )
    RegimenFactory(patient=patient, started_on=D(2025, 11, 2))
    return collect(patient, "ACC-000123", D(2026, 11, 2), nurse)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(username=user.username)}")
    return client


@pytest.fixture
def unlisted(db):
    return UserFactory(username="lab_newvendor", role=Role.LAB)  # provisioned, not yet listed


@pytest.fixture
def labs(settings):
    settings.DEFAULT_LAB = "central"
    settings.LAB_ACCOUNTS = LABS


@pytest.mark.django_db
@pytest.mark.parametrize("draw_lab", ["central", ""])
def test_an_account_in_no_lab_sees_and_reports_on_no_draw(
    labs, collected, unlisted, lab_user, draw_lab, caplog
):
    Draw.objects.filter(pk=collected.pk).update(lab=draw_lab)
    api = _api(unlisted)
    with caplog.at_level(logging.WARNING, logger="patients.scheduling"):
        looked_up = api.get("/api/v1/draws/", {"accession": "ACC-000123"})
    assert looked_up.status_code == 403
    assert "not assigned to a lab" in looked_up.json()["message"]
    assert "lab_newvendor" in caplog.text
    assert "LAB_ACCOUNTS" in caplog.text
    assert "MRN-0001" not in caplog.text
    assert "ACC-000123" not in caplog.text

    reported = api.post("/api/v1/reports/", payload(report_id="X-1"), format="json")
    assert reported.status_code == 404
    assert Draw.objects.get(pk=collected.pk).state == Draw.State.COLLECTED

    page = Client()
    page.force_login(unlisted)
    assert b"ACC-000123" not in page.get("/uploads/awaiting/").content

    # The account the lab is listed with still sees its draw.
    mine = _api(lab_user).get("/api/v1/draws/", {"accession": "ACC-000123"})
    assert mine.status_code == 200
    assert [d["accession"] for d in mine.json()["results"]] == ["ACC-000123"]


@pytest.mark.django_db
def test_another_lab_s_account_still_gets_the_not_found_answer(labs, collected):
    Draw.objects.filter(pk=collected.pk).update(lab="central")
    regional = UserFactory(username="lab_regional", role=Role.LAB)
    api = _api(regional)
    assert api.get("/api/v1/draws/", {"accession": "ACC-000123"}).status_code == 404
    assert api.post("/api/v1/reports/", payload(), format="json").status_code == 404


@pytest.mark.django_db
def test_with_no_labs_configured_every_lab_account_is_the_default_lab_s(
    settings, collected, unlisted
):
    settings.LAB_ACCOUNTS = {}
    assert scheduling.lab_of_account(unlisted) == settings.DEFAULT_LAB
    found = _api(unlisted).get("/api/v1/draws/", {"accession": "ACC-000123"})
    assert found.status_code == 200


@pytest.mark.django_db
def test_lab_of_account(labs, unlisted, lab_user):
    assert scheduling.lab_of_account(lab_user) == "central"
    assert scheduling.lab_of_account(unlisted) is None
    assert not Draw.objects.filter(scheduling.lab_draws(unlisted)).exists()


@pytest.mark.django_db
def test_the_awaiting_page_tells_an_unassigned_account_why_it_sees_nothing(client, settings):
    from tests.factories import UserFactory

    settings.LAB_ACCOUNTS = {"central": frozenset({"lab_central"})}
    stray = UserFactory(username="lab_stray", role=Role.LAB)
    client.force_login(stray)
    html = client.get("/uploads/awaiting/").content.decode()
    assert "not assigned to a lab" in html
    assert "(None)" not in html
