"""POST /api/v1/reports/ as a lab would use it: validation, matching, idempotency, versions."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services import api_token_issue
from audit.models import AuditEvent
from liquidbiopsy import services
from liquidbiopsy import validation as v
from liquidbiopsy.models import LabReport, VariantCall
from patients.models import Draw
from tests.builders import URL, counts, payload, variant
from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_final_report_is_stored_and_the_draw_resulted(lab_token_api, collected):
    response = lab_token_api.post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["report_id"] == "G360-2026-000123"
    assert body["superseded"] is False
    assert body["alerts"] == []
    (variant_out,) = body["variants"]
    assert variant_out["hgvs_p"] == "p.Asp538Gly"
    assert variant_out["vaf"] == pytest.approx(0.0042)  # 0.42 % stored as a fraction
    assert variant_out["vaf_percent"] == pytest.approx(0.42)
    collected.refresh_from_db()
    assert collected.state == "resulted"
    stored = LabReport.objects.get()
    assert stored.payload == payload()
    assert len(stored.payload_sha256) == 64
    assert AuditEvent.objects.filter(
        action="report.store", patient_id=collected.patient_id
    ).exists()


@pytest.mark.django_db
def test_vaf_as_a_fraction_is_the_same_number(lab_token_api, collected):
    body = payload(variants=[variant(vaf_percent=None, vaf=0.0042)])
    response = lab_token_api.post(URL, body, format="json")
    assert response.status_code == 201
    assert VariantCall.objects.get().vaf * 100 == Decimal("0.42")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"report_id": ""}, "report_id", v.REQUIRED),
        ({"version": 0}, "version", v.NOT_INT.format(n=1, m=2_147_483_647)),
        ({"version": "two"}, "version", v.NOT_INT.format(n=1, m=2_147_483_647)),
        ({"status": "preliminary"}, "status", v.CHOICE.format(choices=", ".join(v.STATUSES))),
        ({"accession": None}, "accession", v.REQUIRED),
        ({"patient": {"mrn": "MRN-0001"}}, "patient.date_of_birth", v.REQUIRED),
        ({"patient": {"date_of_birth": "1961-04-02"}}, "patient.mrn", v.REQUIRED),
        ({"collected_on": "02/11/2026"}, "collected_on", v.NOT_DATE),
        (
            {"collected_on": "2026-11-25", "reported_on": "2026-11-25"},
            "collected_on",
            v.DATE_FUTURE,
        ),
        ({"reported_on": "2026-11-30"}, "reported_on", v.DATE_FUTURE),
        (
            {"collected_on": "2026-11-11"},
            "collected_on",
            v.COLLECTED_AFTER_REPORTED.format(reported="2026-11-10"),
        ),
        ({"assay": ""}, "assay", v.REQUIRED),
        ({"qc_status": "ok"}, "qc_status", v.CHOICE.format(choices=", ".join(v.QC_STATUSES))),
        ({"tumor_fraction": 12}, "tumor_fraction", v.TUMOR_FRACTION_RANGE),
        ({"variants": None}, "variants", v.REQUIRED),
        ({"qc_status": "fail"}, "variants", v.VARIANTS_WITH_FAILED_QC.format(qc="fail")),
        ({"variants": [variant(gene="")]}, "variants[0].gene", v.REQUIRED),
        ({"variants": [variant(vaf=0.004)]}, "variants[0]", v.VAF_BOTH),
        ({"variants": [variant(vaf_percent=None)]}, "variants[0]", v.VAF_NONE),
        ({"variants": [variant(vaf_percent=None, vaf=0.42 * 100)]}, "variants[0].vaf", v.VAF_RANGE),
        ({"variants": [variant(vaf_percent=None, vaf=0)]}, "variants[0].vaf", v.VAF_RANGE),
        ({"variants": [variant(vaf_percent=142)]}, "variants[0].vaf_percent", v.VAF_PERCENT_RANGE),
        ({"variants": [variant(vaf_percent="lots")]}, "variants[0].vaf_percent", v.NOT_NUMBER),
        (
            {"variants": [variant(depth=-1)]},
            "variants[0].depth",
            v.NOT_INT.format(n=0, m=2_147_483_647),
        ),
        (
            {
                "variants": [
                    variant(
                        hgvs_p=None, genome_build=None, chrom=None, pos=None, ref=None, alt=None
                    )
                ]
            },
            "variants[0]",
            v.NO_LOCATION,
        ),
        (
            {"variants": [variant(hgvs_p=None, alt=None)]},
            "variants[0]",
            v.POSITION_PARTIAL.format(missing="alt"),
        ),
        (
            {"variants": [variant(), variant(hgvs_p="D538G")]},
            "variants[1]",
            v.VARIANT_TWICE.format(other=0),
        ),
    ],
)
@pytest.mark.django_db
def test_each_rule_names_its_field_and_stores_nothing(
    lab_token_api, collected, change, field, message
):
    before = counts()
    response = lab_token_api.post(URL, payload(**change), format="json")
    assert response.status_code == 400, response.json()
    assert message in response.json()["extra"]["fields"][field]
    assert counts() == before
    collected.refresh_from_db()
    assert collected.state == "collected"


@pytest.mark.django_db
def test_unreadable_protein_change_names_the_field(lab_token_api, collected):
    response = lab_token_api.post(
        URL, payload(variants=[variant(hgvs_p="p.Asp538Xyz")]), format="json"
    )
    assert response.status_code == 400
    assert "p.Asp538Xyz" in response.json()["extra"]["fields"]["variants[0].hgvs_p"][0]


@pytest.mark.django_db
def test_every_error_comes_in_one_answer(lab_token_api, collected):
    response = lab_token_api.post(
        URL,
        payload(status="x", qc_status="y", collected_on="soon", variants=[variant(vaf=0.5)]),
        format="json",
    )
    assert set(response.json()["extra"]["fields"]) == {
        "status",
        "qc_status",
        "collected_on",
        "variants[0]",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"patient": {"mrn": "MRN-9999", "date_of_birth": "1961-04-02"}},
        {"patient": {"mrn": "MRN-0001", "date_of_birth": "1960-01-01"}},
        {"patient": {"mrn": "MRN-9", "date_of_birth": "1960-01-01"}},
    ],
)
@pytest.mark.django_db
def test_identity_mismatch_is_one_generic_422_that_does_not_say_which(
    lab_token_api, lab_user, collected, change
):
    before = counts()
    response = lab_token_api.post(URL, payload(**change), format="json")
    assert response.status_code == 422
    fields = response.json()["extra"]["fields"]
    assert fields == {
        "patient": [services.IDENTITY_MISMATCH.format(accession="ACC-000123")]
    }  # the same answer whichever identifier failed: no date-of-birth or MRN oracle
    assert counts() == before
    failed = AuditEvent.objects.get(action="report.match_failed")
    assert failed.actor == lab_user
    assert failed.detail == {"accession": "ACC-000123", "match": "identity"}


@pytest.mark.django_db
def test_unknown_accession_is_404_and_audited(lab_token_api, collected):
    before = counts()
    response = lab_token_api.post(URL, payload(accession="ACC-NOPE"), format="json")
    assert response.status_code == 404
    assert response.json()["message"] == services.NO_SUCH_ACCESSION.format(accession="ACC-NOPE")
    assert counts() == before
    assert AuditEvent.objects.filter(action="report.match_failed").count() == 1


@pytest.mark.django_db
def test_identical_resend_is_200_and_changes_nothing(lab_token_api, collected):
    first = lab_token_api.post(URL, payload(), format="json")
    before = (counts(), AuditEvent.objects.count())
    again = lab_token_api.post(URL, payload(), format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert (counts(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_same_key_other_content_is_409(lab_token_api, collected):
    lab_token_api.post(URL, payload(), format="json")
    before = counts()
    response = lab_token_api.post(URL, payload(assay="Other assay"), format="json")
    assert response.status_code == 409
    assert "already received with different content" in response.json()["message"]
    assert counts() == before


@pytest.mark.django_db
def test_amendment_chain_keeps_every_version(lab_token_api, collected, nurse_api):
    lab_token_api.post(URL, payload(), format="json")
    amended = lab_token_api.post(
        URL,
        payload(version=2, status="amended", variants=[variant(vaf_percent=0.84)]),
        format="json",
    )
    assert amended.status_code == 201
    corrected = lab_token_api.post(
        URL, payload(version=3, status="corrected", variants=[]), format="json"
    )
    assert corrected.status_code == 201
    older = lab_token_api.post(URL, payload(version=2, status="amended", assay="x"), format="json")
    assert older.status_code == 409
    versions = nurse_api.get(f"{URL}?patient={collected.patient_id}").json()["results"]
    assert [(r["version"], r["superseded"]) for r in versions] == [(3, False), (2, True), (1, True)]
    assert LabReport.objects.get(version=1).superseded_by == LabReport.objects.get(version=2)


@pytest.mark.django_db
def test_cancellation_retracts_and_the_draw_awaits_a_result(lab_token_api, collected):
    lab_token_api.post(URL, payload(), format="json")
    response = lab_token_api.post(
        URL, payload(version=2, status="cancelled", variants=[]), format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "cancelled"
    collected.refresh_from_db()
    assert collected.state == "collected"


@pytest.mark.django_db
def test_failed_qc_fails_the_draw_and_plans_a_redraw(lab_token_api, collected):
    response = lab_token_api.post(
        URL, payload(qc_status="insufficient", variants=[]), format="json"
    )
    assert response.status_code == 201
    collected.refresh_from_db()
    assert (collected.state, collected.reason_code) == ("failed", "insufficient")
    redraw = Draw.objects.get(patient=collected.patient, state="scheduled")
    assert redraw.is_redraw
    assert redraw.due_on == dt.date(2026, 11, 24)


@pytest.mark.django_db
def test_not_detected_is_a_passing_report_without_variants(lab_token_api, collected):
    response = lab_token_api.post(URL, payload(variants=[]), format="json")
    assert response.status_code == 201
    assert response.json()["variants"] == []
    assert response.json()["qc_status"] == "pass"


@pytest.mark.django_db
def test_only_labs_post_and_labs_read_only_their_own(
    collected, nurse_api, oncologist_api, anon_api
):
    assert nurse_api.post(URL, payload(), format="json").status_code == 403
    assert oncologist_api.post(URL, payload(), format="json").status_code == 403
    assert anon_api.post(URL, payload(), format="json").status_code == 401
    lab_a = APIClient()
    lab_a.credentials(
        HTTP_AUTHORIZATION="Token "
        + api_token_issue(username=UserFactory(username="lab_a", role=Role.LAB).username)
    )
    lab_b = APIClient()
    lab_b.credentials(
        HTTP_AUTHORIZATION="Token "
        + api_token_issue(username=UserFactory(username="lab_b", role=Role.LAB).username)
    )
    assert lab_a.post(URL, payload(), format="json").status_code == 201
    assert lab_a.get(URL).json()["count"] == 1
    assert lab_b.get(URL).json()["count"] == 0
    assert lab_b.get(f"/api/v1/patients/{collected.patient_id}/").status_code == 403


@pytest.mark.django_db
def test_non_object_body_is_400(lab_token_api, collected):
    response = lab_token_api.post(URL, [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["extra"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_the_same_report_posted_at_once_is_stored_once(collected, lab_user):
    token = api_token_issue(username=lab_user.username)
    barrier = threading.Barrier(6)
    codes, errors = [], []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            barrier.wait()
            codes.append(client.post(URL, payload(), format="json").status_code)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(codes) == [200, 200, 200, 200, 200, 201]
    assert LabReport.objects.count() == 1
    assert VariantCall.objects.count() == 1


@pytest.mark.django_db
def test_nul_characters_in_a_report_are_400_not_500(lab_token_api, collected):
    response = lab_token_api.post(URL, payload(assay="G360\x00"), format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]
    assert counts()[0] == 0
