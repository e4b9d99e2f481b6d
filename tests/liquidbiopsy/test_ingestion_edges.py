"""Results never misread: coordinates, other genes' HGVS, collection dates, tumour fraction,
flags and filters on the API, the draw state machine, uploads that fail, and lab scoping."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.roles import Role
from audit.models import AuditEvent
from liquidbiopsy import bulk, services
from liquidbiopsy import uploads as upload_pipeline
from liquidbiopsy.models import LabReport, Upload, VariantCall
from patients.models import Draw
from tests.builders import URL, counts, payload, variant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
UPLOAD = "/api/v1/reports/upload/"
D = Decimal


def position(**overrides):
    base = {"genome_build": "GRCh38", "chrom": "6", "pos": 152098791, "ref": "A", "alt": "G"}
    return {**base, **overrides}


def only_position(**overrides):
    return {"gene": "ESR1", "vaf": 0.004, **position(**overrides)}


# --- Coordinates and HGVS through the API ---------------------------------------------------


@pytest.mark.parametrize(
    ("chrom", "build"),
    [
        ("CHR6", "GRCh38"),
        ("Chr6", "hg38"),
        ("NC_000006.12", "grch38"),
        ("chr6", "GRCh38.p14"),
    ],
)
def test_every_chromosome_form_is_stored_canonical(lab_token_api, collected, chrom, build):
    body = payload(variants=[only_position(chrom=chrom, genome_build=build)])
    response = lab_token_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    call = VariantCall.objects.get()
    assert (call.chrom, call.genome_build, call.flags) == ("6", "GRCh38", [])


def test_a_grch37_position_is_stored_with_its_build(lab_token_api, collected):
    body = payload(variants=[only_position(genome_build="hg19", pos=152419926)])
    assert lab_token_api.post(URL, body, format="json").status_code == 201
    call = VariantCall.objects.get()
    assert (call.genome_build, call.pos) == ("GRCh37", 152419926)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"genome_build": "hg18"}, "variants[0].genome_build", "Unknown genome build 'hg18'"),
        (
            {"genome_build": "GRCh37", "chrom": "NC_000006.12"},
            "variants[0].chrom",
            "is a GRCh38 accession",
        ),
        ({"chrom": "chr6_GL000250v2_alt"}, "variants[0].chrom", "Unknown chromosome"),
        ({"ref": "X"}, "variants[0].ref", "Must be bases"),
    ],
)
def test_unknown_builds_and_contradictions_are_400_naming_the_field(
    lab_token_api, collected, change, field, message
):
    before = counts()
    response = lab_token_api.post(URL, payload(variants=[only_position(**change)]), format="json")
    assert response.status_code == 400
    assert message in response.json()["extra"]["fields"][field][0]
    assert counts() == before


def test_valid_hgvs_of_another_gene_never_fails_the_report(lab_token_api, collected):
    others = [
        {"gene": "TP53", "hgvs_p": "p.Arg213GlnfsTer34", "vaf": 0.01},
        {"gene": "PIK3CA", "hgvs_p": "p.Glu110del", "vaf": 0.01},
        {"gene": "ERBB2", "hgvs_p": "p.Ala775_Gly776insTyrValMetAla", "vaf": 0.01},
        {"gene": "CDH1", "hgvs_p": "p.Cys28delinsTrpVal", "vaf": 0.01},
        {"gene": "BRCA2", "hgvs_p": "p.?", "vaf": 0.01},
        {"gene": "ARID1A", "hgvs_p": "NP_006006.3:p.(Gln1334Ter)", "vaf": 0.01},
    ]
    body = payload(variants=[variant(hgvs_p="NP_000116.2:p.(Asp538Gly)"), *others])
    response = lab_token_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert VariantCall.objects.get(gene="ESR1").hgvs_p == "p.Asp538Gly"
    assert VariantCall.objects.count() == 7


def test_discordant_and_chip_flags_and_the_filter_are_on_the_variant_api(
    lab_token_api, collected, oncologist_api
):
    body = payload(
        variants=[
            variant(hgvs_p="p.Tyr537Ser"),  # the D538G position: discordant
            {"gene": "DNMT3A", "hgvs_p": "p.Arg882His", "vaf": 0.02},
            {"gene": "ESR1", "hgvs_p": "p.Leu536His", "vaf": 0.001, "filter": "weak_evidence"},
        ]
    )
    assert lab_token_api.post(URL, body, format="json").status_code == 201

    report = oncologist_api.get(URL, {"patient": collected.patient_id}).json()["results"][0]
    got = {(v["gene"], v["hgvs_p"]): (v["filter"], v["flags"]) for v in report["variants"]}
    assert got == {
        ("ESR1", "p.Tyr537Ser"): ("", ["discordant"]),
        ("DNMT3A", "p.Arg882His"): ("", ["possible_chip"]),
        ("ESR1", "p.Leu536His"): ("weak_evidence", []),
    }


# --- Collection date and tumour fraction -------------------------------------------------


@pytest.mark.parametrize("collected_on", ["2026-11-01", "2026-11-02", "2026-11-03"])
def test_collected_on_within_a_day_of_the_draw_is_accepted(lab_token_api, collected, collected_on):
    response = lab_token_api.post(URL, payload(collected_on=collected_on), format="json")
    assert response.status_code == 201


def test_collected_on_further_from_the_draw_is_422_naming_both_dates(lab_token_api, collected):
    before = counts()
    response = lab_token_api.post(URL, payload(collected_on="2026-10-30"), format="json")
    assert response.status_code == 422
    assert response.json()["extra"]["fields"]["collected_on"] == [
        services.COLLECTED_ON_MISMATCH.format(given="2026-10-30", recorded="2026-11-02")
    ]
    assert counts() == before


def test_tumour_fraction_in_percent_is_stored_as_a_fraction(lab_token_api, collected):
    body = payload(tumor_fraction=None, tumor_fraction_percent=0.8)
    body.pop("tumor_fraction")
    assert lab_token_api.post(URL, body, format="json").status_code == 201
    assert LabReport.objects.get().tumor_fraction == D("0.008")


def test_tumour_fraction_given_both_ways_is_400(lab_token_api, collected):
    response = lab_token_api.post(URL, payload(tumor_fraction_percent=1.2), format="json")
    assert response.status_code == 400
    assert "tumor_fraction" in response.json()["extra"]["fields"]


# --- The draw state machine ---------------------------------------------------------------


def test_a_qc_pass_correction_cancels_the_redraw_the_failure_scheduled(lab_token_api, collected):
    failed = payload(qc_status="fail", variants=[])
    assert lab_token_api.post(URL, failed, format="json").status_code == 201
    redraw = Draw.objects.get(patient=collected.patient, state="scheduled")
    assert redraw.is_redraw

    corrected = payload(version=2, status="corrected")
    assert lab_token_api.post(URL, corrected, format="json").status_code == 201

    redraw.refresh_from_db()
    collected.refresh_from_db()
    assert collected.state == "resulted"
    assert (redraw.state, redraw.reason_code) == ("cancelled", "redraw_not_needed")
    open_draw = Draw.objects.get(patient=collected.patient, state="scheduled")
    assert not open_draw.is_redraw  # the regular interval resumes
    actions = list(
        AuditEvent.objects.filter(patient_id=collected.patient_id, action__startswith="draw.")
        .order_by("id")
        .values_list("action", "detail")
    )
    assert ("draw.result", {"from": "failed"}) in actions
    assert ("draw.cancel", {"reason": "redraw_not_needed"}) in actions


def test_a_redraw_already_collected_is_kept(lab_token_api, collected, nurse):
    from patients import scheduling

    lab_token_api.post(URL, payload(qc_status="fail", variants=[]), format="json")
    redraw = Draw.objects.get(patient=collected.patient, state="scheduled")
    scheduling.draw_collect(
        draw=redraw,
        collected_at=dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC),
        accession="ACC-REDRAW",
        acting_user=nurse,
    )
    lab_token_api.post(URL, payload(version=2, status="corrected"), format="json")
    redraw.refresh_from_db()
    assert redraw.state == "collected"


CSV_HEADER = (
    "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
    "qc_status,gene,hgvs_p,vaf"
)


def csv(*rows):
    return SimpleUploadedFile("batch.csv", ("\n".join([CSV_HEADER, *rows]) + "\n").encode())


def test_the_file_path_moves_draws_with_audit_rows(lab_token_api, collected):
    row = "R-F,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,insufficient,,,"
    response = lab_token_api.post(UPLOAD, {"file": csv(row)}, format="multipart")
    assert response.status_code == 201, response.json()
    collected.refresh_from_db()
    assert (collected.state, collected.reason_code) == ("failed", "insufficient")
    audited = set(
        AuditEvent.objects.filter(patient_id=collected.patient_id).values_list("action", flat=True)
    )
    assert {"draw.fail", "draw.cancel", "draw.plan"} <= audited


# --- Uploads end done or failed -----------------------------------------------------------


def test_an_upload_whose_processing_raises_ends_failed_with_its_error(
    lab_token_api, collected, monkeypatch
):
    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(upload_pipeline, "reports_ingest_bulk", explode)
    row = (
        "R-X,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,D538G,0.01"
    )

    response = lab_token_api.post(UPLOAD, {"file": csv(row)}, format="multipart")

    assert response.status_code == 400
    upload = Upload.objects.get()
    assert upload.state == "failed"
    assert upload.errors == [
        {"line": None, "field": "file", "message": upload_pipeline.PROCESSING_FAILED}
    ]
    assert bytes(upload.content) == b""  # no MRN or date of birth kept
    assert upload.finished_at is not None
    assert not LabReport.objects.exists()
    assert AuditEvent.objects.filter(action="upload.fail").exists()


def test_a_csv_with_values_past_their_columns_ends_failed_not_processing(lab_token_api, collected):
    row = (
        "R-Y,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,ESR1,"
        "D538G,0.00000000001"
    )
    response = lab_token_api.post(UPLOAD, {"file": csv(row)}, format="multipart")
    assert response.status_code == 400
    upload = Upload.objects.get()
    assert (upload.state, bytes(upload.content)) == ("failed", b"")
    assert upload.errors[0]["line"] == 2


# --- Lab scoping ---------------------------------------------------------------------------


@pytest.fixture
def other_lab_api(db):
    user = UserFactory(username="lab_elsewhere", role=Role.LAB)
    client = APIClient()
    client.force_authenticate(user)
    return client


# Once LAB_ACCOUNTS names a lab, every lab account is listed (an unlisted one sees no draw).
LABS = {"default": frozenset({"lab_lims"}), "elsewhere": frozenset({"lab_elsewhere"})}


@override_settings(LAB_ACCOUNTS=LABS)
def test_another_lab_cannot_report_on_or_look_up_a_draw_not_sent_to_it(
    other_lab_api, lab_token_api, collected
):
    before = counts()
    response = other_lab_api.post(URL, payload(), format="json")
    assert response.status_code == 404
    assert counts() == before
    # The same answer as an accession that does not exist.
    missing = other_lab_api.post(URL, payload(accession="ACC-NOPE"), format="json")
    assert missing.json()["message"] == services.NO_SUCH_ACCESSION.format(accession="ACC-NOPE")
    assert response.json()["message"] == services.NO_SUCH_ACCESSION.format(accession="ACC-000123")

    assert other_lab_api.get("/api/v1/draws/", {"accession": "ACC-000123"}).status_code == 404
    mine = lab_token_api.get("/api/v1/draws/", {"accession": "ACC-000123"})
    assert mine.status_code == 200
    assert [d["accession"] for d in mine.json()["results"]] == ["ACC-000123"]


@override_settings(LAB_ACCOUNTS=LABS)
def test_a_draw_sent_to_a_named_lab_is_that_lab_s(other_lab_api, lab_token_api, patient, nurse):
    from patients import scheduling

    scheduling.draws_plan(patient_ids=[patient.pk])
    draw = Draw.objects.get(patient=patient, state="scheduled")
    scheduling.draw_collect(
        draw=draw,
        collected_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
        accession="ACC-ELSEWHERE",
        acting_user=nurse,
        lab="elsewhere",
    )
    assert other_lab_api.get("/api/v1/draws/", {"accession": "ACC-ELSEWHERE"}).status_code == 200
    assert lab_token_api.get("/api/v1/draws/", {"accession": "ACC-ELSEWHERE"}).status_code == 404


def test_collecting_for_an_unknown_lab_is_refused(nurse_api, patient):
    from patients import scheduling

    scheduling.draws_plan(patient_ids=[patient.pk])
    draw = Draw.objects.get(patient=patient, state="scheduled")
    response = nurse_api.post(
        f"/api/v1/draws/{draw.pk}/collect/",
        {"collected_at": "2026-11-24T09:00:00Z", "accession": "ACC-77777", "lab": "nowhere"},
        format="json",
    )
    assert response.status_code == 400
    assert "lab" in response.json()["extra"]["fields"]


def test_failed_matches_are_throttled_per_lab_account(
    lab_token_api, collected, other_lab_api, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"lab_match_failure": "2/hour"},
    }
    wrong = payload(patient={"mrn": "MRN-0001", "date_of_birth": "1960-01-01"})
    assert lab_token_api.post(URL, wrong, format="json").status_code == 422
    assert lab_token_api.post(URL, wrong, format="json").status_code == 422
    blocked = lab_token_api.post(URL, payload(), format="json")
    assert blocked.status_code == 429  # even a right one, until the window passes
    assert "Retry-After" in blocked
    assert AuditEvent.objects.filter(action="report.match_failed").count() == 2
    # Another lab account is not slowed by this one's failures.
    elsewhere = other_lab_api.post(URL, payload(accession="ACC-NOPE"), format="json")
    assert elsewhere.status_code == 404


def test_a_csv_of_guesses_gets_one_generic_answer_per_row_and_is_audited(lab_token_api, collected):
    rows = [
        f"R-G{n},1,final,ACC-000123,MRN-0001,1961-04-{n:02d},2026-11-02,2026-11-10,G360,pass,,,"
        for n in (3, 4, 5)
    ]
    response = lab_token_api.post(UPLOAD, {"file": csv(*rows)}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["extra"]["errors"]
    messages = {e["message"] for e in errors if e["field"] != "report_id"}
    # Three identities for one accession: the same answer on each line, none compared with
    # the draw (test_match_oracle.py), and each counted against the allowance.
    assert messages == {
        bulk.IDENTITIES_IN_CONFLICT.format(accession="ACC-000123", lines="line 2, line 3, line 4")
    }
    assert AuditEvent.objects.filter(action="report.match_failed").count() == 3


def test_a_csv_takes_tumour_fraction_in_percent_and_the_filter(lab_token_api, collected):
    header = (
        "report_id,version,status,accession,mrn,date_of_birth,collected_on,reported_on,assay,"
        "qc_status,tumor_fraction_percent,gene,hgvs_p,vaf_percent,filter"
    )
    rows = [
        "R-P,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,0.8,"
        "ESR1,D538G,0.42,",
        "R-P,1,final,ACC-000123,MRN-0001,1961-04-02,2026-11-02,2026-11-10,G360,pass,0.8,"
        "ESR1,Y537S,0.05,strand_bias",
    ]
    data = SimpleUploadedFile("p.csv", ("\n".join([header, *rows]) + "\n").encode())
    response = lab_token_api.post(UPLOAD, {"file": data}, format="multipart")
    assert response.status_code == 201, response.json()
    assert LabReport.objects.get().tumor_fraction == D("0.008")
    calls = {c.hgvs_p: (c.vaf, c.filter) for c in VariantCall.objects.all()}
    assert calls == {
        "p.Asp538Gly": (D("0.0042"), ""),
        "p.Tyr537Ser": (D("0.0005"), "strand_bias"),
    }
