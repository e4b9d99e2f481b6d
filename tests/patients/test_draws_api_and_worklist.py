"""Draw calls of the API and the worklist page: roles, errors, sections, query counts."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditEvent
from patients import scheduling
from patients.models import Draw, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _clinic_today():
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, 0, tzinfo=LONDON), tick=False):
        yield


def _open(patient) -> Draw:
    return Draw.objects.get(patient=patient, state="scheduled")


@pytest.fixture
def draw(patient):
    scheduling.draws_plan(patient_ids=[patient.pk])
    return _open(patient)


def test_nurse_collects_over_the_api(nurse_api, draw):
    response = nurse_api.post(
        f"/api/v1/draws/{draw.pk}/collect/",
        {"collected_at": "2026-11-24T09:40:00Z", "accession": "ACC-API-1"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["draw"]["state"] == "collected"
    assert body["draw"]["accession"] == "ACC-API-1"
    assert body["next_draw"]["due_on"] == "2027-01-19"


def test_collect_errors_name_fields_and_change_nothing(nurse_api, draw):
    before = (Draw.objects.count(), AuditEvent.objects.count())
    response = nurse_api.post(
        f"/api/v1/draws/{draw.pk}/collect/",
        {"collected_at": "2026-11-25T09:40:00Z", "accession": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"collected_at", "accession"}
    response = nurse_api.post(f"/api/v1/draws/{draw.pk}/collect/", {}, format="json")
    assert set(response.json()["extra"]["fields"]) == {"collected_at", "accession"}
    assert (Draw.objects.count(), AuditEvent.objects.count()) == before


def test_collecting_a_cancelled_draw_is_a_409(nurse_api, nurse, draw):
    scheduling.draw_cancel(draw=draw, reason="patient_request", acting_user=nurse)
    response = nurse_api.post(
        f"/api/v1/draws/{draw.pk}/collect/",
        {"collected_at": "2026-11-24T09:40:00Z", "accession": "ACC-X"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": "This draw is cancelled; only a scheduled draw can be collected.",
        "extra": {"state": "cancelled"},
    }


def test_miss_reschedule_cancel_over_the_api(nurse_api, draw):
    response = nurse_api.post(
        f"/api/v1/draws/{draw.pk}/reschedule/", {"due_on": "2026-11-27"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["draw"]["due_on"] == "2026-11-27"
    response = nurse_api.post(f"/api/v1/draws/{draw.pk}/miss/", {"reason": "unwell"}, format="json")
    assert response.status_code == 200
    assert response.json()["next_draw"]["due_on"] == "2027-01-19"
    nxt = response.json()["next_draw"]["id"]
    response = nurse_api.post(f"/api/v1/draws/{nxt}/cancel/", {"reason": "other"}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"comment": [scheduling.NOTE_REQUIRED]}


@pytest.mark.parametrize("action", ["collect", "miss", "cancel", "reschedule"])
def test_only_nurses_act_on_draws(action, draw, oncologist_api, lab_token_api, anon_api):
    body = {
        "collect": {"collected_at": "2026-11-24T09:40:00Z", "accession": "ACC-R"},
        "miss": {"reason": "unwell"},
        "cancel": {"reason": "patient_request"},
        "reschedule": {"due_on": "2026-11-26"},
    }[action]
    url = f"/api/v1/draws/{draw.pk}/{action}/"
    assert oncologist_api.post(url, body, format="json").status_code == 403
    assert lab_token_api.post(url, body, format="json").status_code == 403
    assert anon_api.post(url, body, format="json").status_code == 401
    draw.refresh_from_db()
    assert (draw.state, draw.due_on) == ("scheduled", draw.planned_on)


def test_unknown_draw_is_404(nurse_api):
    response = nurse_api.post("/api/v1/draws/999999/miss/", {"reason": "unwell"}, format="json")
    assert response.status_code == 404


def test_lab_looks_up_a_draw_by_accession_and_nothing_else(lab_token_api, nurse, draw):
    scheduling.draw_collect(
        draw=draw,
        collected_at=dt.datetime(2026, 11, 24, 9, 0, tzinfo=LONDON),
        accession="ACC-LAB-1",
        acting_user=nurse,
    )
    found = lab_token_api.get("/api/v1/draws/?accession=ACC-LAB-1")
    assert found.status_code == 200
    assert [d["id"] for d in found.json()["results"]] == [draw.pk]
    # Unknown, or sent to another lab: the same 404 (issue 12 §3).
    assert lab_token_api.get("/api/v1/draws/?accession=NOPE").status_code == 404
    assert lab_token_api.get("/api/v1/draws/").status_code == 403
    assert lab_token_api.get(f"/api/v1/draws/?patient={draw.patient_id}").status_code == 403
    assert (
        lab_token_api.get(
            f"/api/v1/draws/?accession=ACC-LAB-1&patient={draw.patient_id}"
        ).status_code
        == 403
    )
    assert lab_token_api.get(f"/api/v1/draws/{draw.pk}/").status_code == 403


def test_clinic_lists_draws_by_patient_and_state(nurse_api, draw):
    response = nurse_api.get(f"/api/v1/draws/?patient={draw.patient_id}&state=scheduled")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert {"id", "patient", "due_on", "state", "accession", "collected_at", "is_redraw"} <= set(
        row
    )
    assert nurse_api.get("/api/v1/draws/?state=bogus").status_code == 400
    assert nurse_api.get("/api/v1/draws/?patient=abc").status_code == 400


def test_patient_created_over_the_api_gets_its_draw(nurse_api, oncologist):
    response = nurse_api.post(
        "/api/v1/patients/",
        {
            "mrn": "MRN-NEW",
            "given_name": "New",
            "family_name": "Patient",
            "date_of_birth": "1970-01-01",
            "oncologist": oncologist.username,
            "surveillance_start_on": "2026-12-07",
        },
        format="json",
    )
    pid = response.json()["id"]
    draws = nurse_api.get(f"/api/v1/draws/?patient={pid}").json()["results"]
    assert [(d["state"], d["due_on"]) for d in draws] == [("scheduled", "2026-12-07")]


# --- The worklist page -------------------------------------------------------------------------


def make_draw(patient, due: dt.date, **extra) -> Draw:
    opens, closes = due - dt.timedelta(days=7), due + dt.timedelta(days=7)
    return Draw.objects.create(
        patient=patient,
        planned_on=due,
        due_on=due,
        window_opens_on=opens,
        window_closes_on=closes,
        **extra,
    )


@pytest.fixture
def sections(oncologist):
    """One patient in each worklist section."""
    made = {}
    for name, due, extra in [
        ("overdue", TODAY - dt.timedelta(days=20), {}),
        ("due", TODAY + dt.timedelta(days=2), {}),
        ("upcoming", TODAY + dt.timedelta(days=12), {}),
        ("later", TODAY + dt.timedelta(days=40), {}),
        ("redraw", TODAY, {"is_redraw": True}),
        (
            "awaiting",
            TODAY - dt.timedelta(days=20),
            {
                "state": "collected",
                "collected_at": dt.datetime(2026, 11, 4, 9, tzinfo=LONDON),
                "collected_on": dt.date(2026, 11, 4),
                "accession": "ACC-AW",
            },
        ),
    ]:
        patient = PatientFactory(family_name=f"Sect{name.capitalize()}", oncologist=oncologist)
        made[name] = make_draw(patient, due, **extra)
    return made


def test_worklist_counts_and_sections(client, nurse, sections):
    client.force_login(nurse)
    response = client.get("/worklist/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts == {
        "overdue": 1,
        "due": 1,
        "upcoming": 1,
        "awaiting": 1,
        "redraw": 1,
        "awaiting_flagged": 1,  # collected 20 days ago
    }
    assert response.context["section"] == "overdue"  # the first non-empty section
    html = response.content.decode()
    assert "SECTOVERDUE" in html
    assert "20 days late" in html
    for section, family in [
        ("due", "SECTDUE"),
        ("upcoming", "SECTUPCOMING"),
        ("redraw", "SECTREDRAW"),
        ("awaiting", "SECTAWAITING"),
    ]:
        page = client.get(f"/worklist/?section={section}").content.decode()
        assert family in page
        assert "SECTLATER" not in page
    assert "chase the lab" in client.get("/worklist/?section=awaiting").content.decode()
    assert AuditEvent.objects.filter(action="worklist.view", actor=nurse).count() == 6


def test_worklist_search_and_oncologist_filter(client, nurse, sections, other_oncologist):
    client.force_login(nurse)
    moved = sections["due"].patient
    Patient.objects.filter(pk=moved.pk).update(oncologist=other_oncologist)
    response = client.get(f"/worklist/?oncologist={other_oncologist.pk}")
    assert response.context["counts"]["due"] == 1
    assert response.context["counts"]["overdue"] == 0
    response = client.post("/worklist/", {"q": "SectUp", "section": "upcoming"})
    assert response.status_code == 302
    assert "SectUp" not in response.url  # the search is kept in the session, not the URL
    assert response.url.startswith("/worklist/?section=upcoming&s=")
    response = client.get(response.url)
    assert response.context["counts"]["upcoming"] == 1
    assert sum(v for k, v in response.context["counts"].items() if k != "upcoming") == 0
    hrefs = re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())
    assert hrefs
    assert not [h for h in hrefs if "SectUp" in h]


def test_nurse_records_collection_from_the_worklist(client, nurse, sections):
    client.force_login(nurse)
    draw = sections["due"]
    response = client.post(
        f"/draws/{draw.pk}/collect/",
        {
            "accession": "ACC-WL-1",
            "collected_at": "24 Nov 2026 09:15",
            "confirmed_patient": draw.patient_id,
            "identity_checked": "on",
            "next": "/worklist/?section=due",
        },
    )
    assert response.status_code == 302
    assert response.url == "/worklist/?section=due"
    draw.refresh_from_db()
    assert draw.state == "collected"
    assert draw.collected_at == dt.datetime(2026, 11, 24, 9, 15, tzinfo=LONDON)
    page = client.get("/worklist/?section=due").content.decode()
    name = draw.patient.display_name
    assert f"Collected for {name}, accession ACC-WL-1. Next draw due 19 Jan 2027." in page
    assert "Undo this collection" in page


def test_worklist_action_errors_come_back_as_a_message(client, nurse, sections):
    client.force_login(nurse)
    draw = sections["due"]
    response = client.post(
        f"/draws/{draw.pk}/collect/",
        {
            "accession": "ACC-AW",
            "collected_at": "2026-11-24T09:15",
            "confirmed_patient": draw.patient_id,
            "identity_checked": "on",
        },
        follow=True,
    )
    assert "This accession is already used by another draw." in response.content.decode()
    draw.refresh_from_db()
    assert draw.state == "scheduled"


def test_worklist_actions_are_for_nurses_only(client, oncologist, lab_user, sections):
    draw = sections["due"]
    client.force_login(oncologist)
    assert client.get("/worklist/").status_code == 200  # may look
    assert client.post(f"/draws/{draw.pk}/miss/", {"reason": "unwell"}).status_code == 403
    client.force_login(lab_user)
    assert client.get("/worklist/").status_code == 403
    for action in ("collect", "miss", "cancel", "reschedule"):
        assert client.post(f"/draws/{draw.pk}/{action}/", {}).status_code == 403
    draw.refresh_from_db()
    assert draw.state == "scheduled"


def test_worklist_redirect_target_must_be_local(client, nurse, sections):
    client.force_login(nurse)
    response = client.post(
        f"/draws/{sections['due'].pk}/miss/",
        {"reason": "unwell", "next": "https://evil.example.org/"},
    )
    assert response.url == "/worklist/"


def _bulk(n, oncologist, prefix):
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"{prefix}{i:05d}",
            given_name="W",
            family_name=f"W{prefix}{i:05d}",
            date_of_birth=dt.date(1960, 1, 1),
            oncologist=oncologist,
            surveillance_state="active",
            surveillance_start_on=dt.date(2026, 1, 5),
        )
        for i in range(n)
    )
    draws = []
    for i, p in enumerate(patients):
        due = TODAY + dt.timedelta(days=(i * 7) % 40 - 20)  # every section non-empty
        draws.append(
            Draw(
                patient=p,
                planned_on=due,
                due_on=due,
                window_opens_on=due - dt.timedelta(days=7),
                window_closes_on=due + dt.timedelta(days=7),
                is_redraw=i % 17 == 0,
            )
        )
        draws.append(
            Draw(
                patient=p,
                planned_on=due - dt.timedelta(days=56),
                due_on=due - dt.timedelta(days=56),
                window_opens_on=due - dt.timedelta(days=63),
                window_closes_on=due - dt.timedelta(days=49),
                state="collected" if i % 5 == 0 else "resulted",
                collected_at=dt.datetime(2026, 10, 1, 9, tzinfo=LONDON),
                collected_on=dt.date(2026, 10, 1),
                accession=f"ACC-{prefix}{i:05d}",
            )
        )
    Draw.objects.bulk_create(draws)


def test_worklist_and_draw_list_query_counts_do_not_grow(client, nurse, oncologist):
    client.force_login(nurse)
    api = APIClient()
    api.force_login(nurse)

    def measure():
        out = {}
        for name, fn in {
            "worklist": lambda: client.get("/worklist/"),
            "worklist due": lambda: client.get("/worklist/?section=due&page=2"),
            "worklist search": lambda: client.get(f"/worklist/?s={token}&section=upcoming"),
            "draws api": lambda: api.get("/api/v1/draws/"),
            "draws api state": lambda: api.get("/api/v1/draws/?state=collected"),
        }.items():
            with CaptureQueriesContext(connection) as ctx:
                assert fn().status_code == 200
            out[name] = len(ctx.captured_queries)
        return out

    client.get("/worklist/")  # the first request after login refreshes the idle expiry
    token = client.post("/worklist/", {"q": "W"}).url.split("s=")[1]
    api.get("/api/v1/draws/")
    _bulk(10, oncologist, "A")
    small = measure()
    _bulk(990, oncologist, "B")
    large = measure()
    assert small == large
    # Session, user with her roles, the page's one statement (counts, rows, oncologists,
    # unread badge), the audit row: at both sizes, with and without a section or search.
    for sizes in (small, large):
        for page in ("worklist", "worklist due", "worklist search"):
            assert sizes[page] <= 4, sizes
