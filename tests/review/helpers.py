"""Small API helpers for the review scenarios."""

import datetime as dt

from tests.builders import URL, collect, payload
from therapy.models import Alert


def post(api, body):
    response = api.post(URL, body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


def ack(api, alert, **body):
    return api.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", body, format="json")


def later_report(patient, nurse, accession="ACC-000124", day=dt.date(2026, 11, 20), **extra):
    collect(patient, accession, day, nurse)
    return payload(
        report_id=f"R-{accession}",
        accession=accession,
        collected_on=day.isoformat(),
        reported_on=(day + dt.timedelta(days=2)).isoformat(),
        **extra,
    )


def pending(patient, kind=None):
    qs = Alert.objects.filter(patient=patient, state__in=Alert.PENDING_STATES)
    return qs.filter(kind=kind) if kind else qs
