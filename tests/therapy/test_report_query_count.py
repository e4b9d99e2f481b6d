"""POST /api/v1/reports/ (one report that opens an alert) runs a fixed, small number of SQL
statements, whatever the cohort's size (issue 14: the report, its reconcile, the notices,
the audit rows and the dashboard's refresh)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders import URL, eligible_patient, payload
from tests.factories import bulk_patients
from therapy.models import Alert

pytestmark = pytest.mark.django_db

# Authentication 2 (the token with its user, the user's roles), throttle 1, the report's
# storage 12 (chain lock, current version, draw match, the report insert in a savepoint of
# its own (3: a file storing the chain may win it), variants, audit, the draw's current
# reports (it follows all of them), the draw's lock, update and audit), the report chain's patients 0 (a
# first version's chain is hers alone), the reconcile 10 (8 reads, the new alerts, every
# other write in one round trip), the dashboard's refresh 1; and the savepoint pair of the
# request's transaction, which this test runs inside (in production: BEGIN and COMMIT, not
# counted).
MAX_QUERIES = 28


def _eligible(i: int, oncologist, nurse):
    return eligible_patient(f"Q{i}", oncologist, nurse)[0]


def _post(api, i: int) -> int:
    body = payload(
        report_id=f"G360-Q{i}",
        accession=f"ACC-Q{i}",
        patient={"mrn": f"MRN-Q{i}", "date_of_birth": "1961-04-02"},
    )
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(URL, body, format="json")
    assert response.status_code == 201, response.content[:300]
    assert [a["kind"] for a in response.json()["alerts"]] == ["switch_recommended"]
    return len(ctx.captured_queries)


def test_report_post_queries_are_few_and_do_not_grow(lab_token_api, oncologist, nurse):
    _eligible(0, oncologist, nurse)
    _eligible(1, oncologist, nurse)
    first = _post(lab_token_api, 0)
    bulk_patients(300, oncologist, "Q-")
    second = _post(lab_token_api, 1)
    assert Alert.objects.filter(state="open").count() == 2
    assert first == second
    assert second <= MAX_QUERIES, second
