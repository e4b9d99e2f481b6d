"""FILTER PASS in any case is PASS on the JSON call and in a CSV file too (DESIGN §6): a lab
writing "pass" never hides its ESR1 call as a filtered one."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from liquidbiopsy.models import VariantCall
from tests.builders import URL, payload, pending
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db


def _with_filter(value: str) -> dict:
    body = payload()
    for variant in body["variants"]:
        variant["filter"] = value
    return body


@pytest.mark.parametrize("written", ["pass", "Pass", " PASS "])
def test_json_pass_in_any_case_is_a_passing_call(lab_token_api, eligible, written):
    response = lab_token_api.post(URL, _with_filter(written), format="json")
    assert response.status_code == 201, response.json()
    assert {c.filter for c in VariantCall.objects.all()} == {"PASS"}
    assert pending(eligible).get().kind == "switch_recommended"


def test_json_a_real_filter_is_kept_and_never_used(lab_token_api, eligible):
    response = lab_token_api.post(URL, _with_filter("strand_bias"), format="json")
    assert response.status_code == 201, response.json()
    assert {c.filter for c in VariantCall.objects.all()} == {"strand_bias"}
    assert not pending(eligible).exists()


def test_csv_pass_in_lower_case_is_a_passing_call(lab_token_api, eligible):
    header = (
        "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
        "qc_status,gene,hgvs_p,vaf_percent,filter"
    )
    body = payload()
    row = (
        f"{body['report_id']},1,final,{body['accession']},{body['patient']['mrn']},"
        f"{body['patient']['date_of_birth']},{body['collected_on']},{body['reported_on']},"
        f"G360,pass,ESR1,p.Asp538Gly,0.42,pass"
    )
    data = SimpleUploadedFile("f.csv", f"{header}\n{row}\n".encode())
    response = lab_token_api.post("/api/v1/reports/upload/", {"file": data}, format="multipart")
    assert response.status_code == 201, response.json()
    reconcile_owed_run()  # what the worker does after the upload's commit
    assert VariantCall.objects.get().vaf == Decimal("0.0042")
    assert VariantCall.objects.get().filter == "PASS"
    assert pending(eligible).get().kind == "switch_recommended"


def test_the_migration_mends_calls_stored_with_lowercase_pass(lab_token_api, eligible):
    """Calls stored as "pass" before this fix: the migration stores PASS and owes a
    reconcile, whose payment opens the alert they should have raised."""
    import importlib

    from django.apps import apps

    from therapy.models import ReconcileOwed

    migration = importlib.import_module("therapy.migrations.0005_filter_pass_any_case")
    lab_token_api.post(URL, _with_filter("strand_bias"), format="json")
    VariantCall.objects.update(filter="pass")  # as the validator stored it before
    assert not pending(eligible).exists()
    migration.forwards(apps, None)
    assert {c.filter for c in VariantCall.objects.all()} == {"PASS"}
    assert list(ReconcileOwed.objects.values_list("patient_id", flat=True)) == [eligible.pk]
    reconcile_owed_run()
    assert pending(eligible).get().kind == "switch_recommended"
