"""Serializers for lab reports (the receiving view is in clinic/lab_api.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.drf import OutSerializer
from liquidbiopsy import bounds as b
from liquidbiopsy.coordinates import MAX_POSITION
from liquidbiopsy.models import LabReport, VariantCall


class VariantOutSerializer(OutSerializer):
    vaf = serializers.FloatField(help_text="Allele fraction as a fraction (0-1).")
    vaf_percent = serializers.FloatField(help_text="The same allele fraction in percent.")

    class Meta:
        model = VariantCall
        fields = [
            "gene",
            "hgvs_p",
            "hgvs_c",
            "transcript",
            "genome_build",
            "chrom",
            "pos",
            "ref",
            "alt",
            "vaf",
            "vaf_percent",
            "depth",
            "filter",
            "flags",
        ]
        extra_kwargs = {
            "filter": {
                "help_text": "The caller's FILTER when not PASS (a VCF): shown, never used "
                "by the switch rule. '' or PASS: passed."
            },
            "flags": {
                "help_text": "discordant (protein and position name different variants), "
                "non_canonical_transcript, possible_chip (a clonal-haematopoiesis gene)."
            },
        }


class ReportOutSerializer(OutSerializer):
    accession = serializers.CharField(source="draw.accession")
    superseded = serializers.SerializerMethodField()
    tumor_fraction = serializers.FloatField(allow_null=True)
    variants = VariantOutSerializer(many=True)

    class Meta:
        model = LabReport
        fields = [
            "id",
            "report_id",
            "version",
            "status",
            "superseded",
            "is_current",
            "accession",
            "draw",
            "patient",
            "assay",
            "qc_status",
            "tumor_fraction",
            "collected_on",
            "reported_on",
            "received_at",
            "payload_sha256",
            "variants",
        ]

    @extend_schema_field(serializers.BooleanField())
    def get_superseded(self, obj) -> bool:
        return not obj.is_current


class ReportReceiptSerializer(ReportOutSerializer):
    alerts = serializers.ListField(
        child=serializers.DictField(),
        help_text="Switch alerts this report raised or updated (the SERENA-6 rule).",
    )

    class Meta(ReportOutSerializer.Meta):
        fields = [*ReportOutSerializer.Meta.fields, "alerts"]


# --- The request body, for the OpenAPI documentation -------------------------------------
# Validation itself is liquidbiopsy.validation.validate_report, shared with CSV and VCF, so
# that every error is reported at once with its path (e.g. variants[0].vaf).


@extend_schema_serializer(component_name="ReportPatientIn")
class PatientInSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=b.MRN_CHARS)
    date_of_birth = serializers.DateField()


def _fraction(help_text: str, maximum: int) -> serializers.FloatField:
    return serializers.FloatField(
        required=False, min_value=0, max_value=maximum, help_text=help_text
    )


@extend_schema_serializer(component_name="VariantIn")
class VariantInSerializer(serializers.Serializer):
    gene = serializers.CharField(max_length=b.GENE_CHARS)
    hgvs_p = serializers.CharField(
        required=False,
        max_length=b.HGVS_CHARS,
        help_text="Any HGVS protein description: p.Asp538Gly, p.(Asp538Gly), "
        "NP_000116.2:p.(Asp538Gly), D538G, p.Arg213GlnfsTer34, p.Val422del, p.?",
    )
    hgvs_c = serializers.CharField(required=False, max_length=b.HGVS_CHARS)
    transcript = serializers.CharField(required=False, max_length=b.TRANSCRIPT_CHARS)
    genome_build = serializers.CharField(
        required=False, help_text="GRCh38 or GRCh37 (hg38, hg19; any case)."
    )
    chrom = serializers.CharField(
        required=False, help_text="6, chr6 (any case), NC_000006.12 (GRCh38) or NC_000006.11."
    )
    pos = serializers.IntegerField(required=False, min_value=1, max_value=MAX_POSITION)
    ref = serializers.RegexField(r"^[ACGTNacgtn]+$", required=False, max_length=b.ALLELE_CHARS)
    alt = serializers.RegexField(r"^[ACGTNacgtn]+$", required=False, max_length=b.ALLELE_CHARS)
    vaf = _fraction("Fraction, 0 < vaf <= 1. Give vaf or vaf_percent, not both.", 1)
    vaf_percent = _fraction("Percent, 0 < value <= 100.", 100)
    depth = serializers.IntegerField(required=False, min_value=0, max_value=b.MAX_DEPTH)
    filter = serializers.CharField(
        required=False, max_length=b.FILTER_CHARS, help_text="The caller's FILTER, if any."
    )


@extend_schema_serializer(component_name="ReportIn")
class ReportInSerializer(serializers.Serializer):
    report_id = serializers.CharField(max_length=b.REPORT_ID_CHARS)
    version = serializers.IntegerField(min_value=1, max_value=b.MAX_VERSION)
    status = serializers.ChoiceField(choices=LabReport.Status.choices)
    accession = serializers.CharField(max_length=b.ACCESSION_CHARS)
    patient = PatientInSerializer()
    collected_on = serializers.DateField(
        help_text="The draw's collection date (clinic time; one day either way accepted)."
    )
    reported_on = serializers.DateField()
    assay = serializers.CharField(max_length=b.ASSAY_CHARS)
    qc_status = serializers.ChoiceField(choices=LabReport.QcStatus.choices)
    tumor_fraction = _fraction("Fraction, 0-1. Give this or tumor_fraction_percent.", 1)
    tumor_fraction_percent = _fraction("Percent, 0-100.", 100)
    variants = VariantInSerializer(many=True)
