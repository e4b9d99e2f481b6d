"""Each caller's VCF (the fixtures of tests/liquidbiopsy, as Mutect2, Strelka2, VarScan2,
FreeBayes, LoFreq, VarDict and GATK write them) uploaded for an eligible patient ends in the
alert DESIGN §5 prescribes: a switch alert showing the allele fraction read by the caller's
convention (§6), and no alert for a filtered call."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.builders import pending
from therapy.models import Alert
from therapy.owed import reconcile_owed_run

pytestmark = pytest.mark.django_db

CALLERS = Path(__file__).parents[1] / "liquidbiopsy" / "fixtures" / "callers"
REPORT_LINES = (
    "##report_id=VCF-2026-0001\n##version=1\n##status=final\n##accession=ACC-000123\n"
    "##mrn=MRN-0001\n##date_of_birth=1961-04-02\n##collected_on=2026-11-02\n"
    "##reported_on=2026-11-10\n##assay=cfDNA panel\n##qc_status=pass\n"
)


def upload(api, name):
    text = (CALLERS / name).read_text()
    first, rest = text.split("\n", 1)
    data = f"{first}\n{REPORT_LINES}{rest}".encode()
    response = api.post(
        "/api/v1/reports/upload/", {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    reconcile_owed_run()


@pytest.mark.parametrize(
    ("fixture", "shown"),
    [
        ("mutect2_tumor_normal.vcf", [["p.Asp538Gly", "0.0112"]]),  # not the normal's 0.001
        ("mutect2_tumor_only.vcf", [["p.Tyr537Ser", "0.0042"]]),
        ("strelka2_somatic_snv.vcf", [["p.Tyr537Ser", "0.0111976631"]]),  # 23 / 2054
        ("varscan2_somatic.vcf", [["p.Asp538Gly", "0.0059"]]),  # FREQ in percent
        ("freebayes.vcf", [["p.Asp538Gly", "0.006"]]),  # GRCh37, AO/(AO+RO), not INFO AF
        ("lofreq.vcf", [["p.Asp538Gly", "0.004484"]]),
        ("vardict.vcf", [["p.Asp538Gly", "0.0042"]]),
        ("gatk_haplotypecaller.vcf", [["p.Asp538Gly", "0.0049751244"]]),  # AD 10/2010
        ("mutect2_multiallelic.vcf", [["p.Tyr537Ser", "0.0066"], ["p.Tyr537Cys", "0.004"]]),
    ],
)
def test_each_caller_s_esr1_call_raises_the_switch_alert_with_its_fraction(
    lab_token_api, eligible, fixture, shown
):
    upload(lab_token_api, fixture)
    alert = pending(eligible).get()
    assert (alert.kind, alert.variants) == ("switch_recommended", shown)


def test_a_caller_filtered_esr1_call_raises_nothing(lab_token_api, eligible):
    upload(lab_token_api, "mutect2_filtered_esr1.vcf")
    assert not Alert.objects.exists()
