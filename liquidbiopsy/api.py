"""Serializers for lab reports (the receiving view is in clinic/lab_api.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from liquidbiopsy.models import LabReport, VariantCall


class VariantOutSerializer(serializers.ModelSerializer):
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
            "flags",
        ]


class ReportOutSerializer(serializers.ModelSerializer):
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
    mrn = serializers.CharField()
    date_of_birth = serializers.DateField()


@extend_schema_serializer(component_name="VariantIn")
class VariantInSerializer(serializers.Serializer):
    gene = serializers.CharField(max_length=32)
    hgvs_p = serializers.CharField(
        required=False, help_text="p.Asp538Gly, p.(Asp538Gly) or D538G: one change."
    )
    hgvs_c = serializers.CharField(required=False)
    transcript = serializers.CharField(required=False)
    genome_build = serializers.CharField(required=False)
    chrom = serializers.CharField(required=False)
    pos = serializers.IntegerField(required=False)
    ref = serializers.CharField(required=False)
    alt = serializers.CharField(required=False)
    vaf = serializers.FloatField(
        required=False, help_text="Fraction, 0 < vaf <= 1. Give vaf or vaf_percent, not both."
    )
    vaf_percent = serializers.FloatField(required=False, help_text="Percent, 0 < value <= 100.")
    depth = serializers.IntegerField(required=False)


@extend_schema_serializer(component_name="ReportIn")
class ReportInSerializer(serializers.Serializer):
    report_id = serializers.CharField(max_length=64)
    version = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(choices=LabReport.Status.choices)
    accession = serializers.CharField(max_length=64)
    patient = PatientInSerializer()
    collected_on = serializers.DateField()
    reported_on = serializers.DateField()
    assay = serializers.CharField(max_length=100)
    qc_status = serializers.ChoiceField(choices=LabReport.QcStatus.choices)
    tumor_fraction = serializers.FloatField(required=False, allow_null=True)
    variants = VariantInSerializer(many=True)
