"""POST /api/v1/reports/ (labs) and GET /api/v1/reports/ (clinic; a lab its own reports)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.roles import CLINIC_ROLES, Role, has_role
from audit.services import audit_record
from liquidbiopsy import selectors
from liquidbiopsy.api import ReportInSerializer, ReportOutSerializer, ReportReceiptSerializer
from surveillance.drf import BaseApi, ErrorSerializer, Pagination
from surveillance.workflows import report_receive

REPORT_EXAMPLE = {
    "report_id": "G360-2026-000123",
    "version": 1,
    "status": "final",
    "accession": "ACC-000123",
    "patient": {"mrn": "MRN-0001", "date_of_birth": "1961-04-02"},
    "collected_on": "2026-11-02",
    "reported_on": "2026-11-10",
    "assay": "Guardant360 CDx",
    "qc_status": "pass",
    "tumor_fraction": 0.012,
    "variants": [
        {
            "gene": "ESR1",
            "hgvs_p": "p.Asp538Gly",
            "hgvs_c": "c.1613A>G",
            "transcript": "NM_000125.4",
            "genome_build": "GRCh38",
            "chrom": "6",
            "pos": 152098791,
            "ref": "A",
            "alt": "G",
            "vaf_percent": 0.42,
            "depth": 15000,
        }
    ],
}
EXAMPLES = [
    OpenApiExample("A final report with one ESR1 variant", value=REPORT_EXAMPLE, request_only=True),
    OpenApiExample(
        "Every field error at once (400)",
        value={
            "message": "Invalid input: see extra.fields for each field's errors.",
            "extra": {
                "fields": {
                    "variants[0].vaf": [
                        "vaf is a fraction: 0 < vaf <= 1 (for a percentage use vaf_percent)."
                    ],
                    "collected_on": ["Cannot be in the future."],
                }
            },
        },
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "Same key, different content (409)",
        value={
            "message": "Report G360-2026-000123 version 1 was already received with different "
            "content. Send changes as a higher version (status amended or corrected).",
            "extra": {},
        },
        response_only=True,
        status_codes=["409"],
    ),
    OpenApiExample(
        "Does not match the draw (422)",
        value={
            "message": "The report does not match the draw on record: see extra.fields.",
            "extra": {
                "fields": {
                    "patient.date_of_birth": [
                        "The date of birth does not match the patient of accession 'ACC-000123'."
                    ]
                }
            },
        },
        response_only=True,
        status_codes=["422"],
    ),
]


class ReportsApi(BaseApi):
    allowed_roles = CLINIC_ROLES | {Role.LAB}
    write_roles = frozenset({Role.LAB})

    @extend_schema(
        operation_id="reports_create",
        request=ReportInSerializer,
        responses={
            201: ReportReceiptSerializer,
            200: ReportReceiptSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
        },
        examples=EXAMPLES,
        description=(
            "Store one version of a lab report. 201: stored; 200: an identical re-send "
            "(nothing changed); 400: every field error; 409: the same (report_id, version) "
            "with other content, or an older version; 422: the accession, MRN or date of "
            "birth does not match the draw on record. Allele fraction: exactly one of `vaf` "
            "(a fraction) or `vaf_percent` per variant."
        ),
    )
    def post(self, request):
        receipt = report_receive(payload=request.data, lab_account=request.user)
        body = dict(ReportOutSerializer(receipt.report).data)
        body["alerts"] = receipt.alerts
        return Response(
            body, status=status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK
        )

    @extend_schema(
        operation_id="reports_list",
        parameters=[
            OpenApiParameter("patient", int, description="Internal patient id (clinic roles)"),
            OpenApiParameter("accession", str),
            OpenApiParameter("page", int),
        ],
        responses={200: ReportOutSerializer(many=True), 400: ErrorSerializer, 403: ErrorSerializer},
        description="Clinic roles see all reports; a lab account sees only its own.",
    )
    def get(self, request):
        params = request.query_params
        patient_id = None
        if params.get("patient"):
            try:
                patient_id = int(params["patient"])
            except ValueError as exc:
                raise serializers.ValidationError(
                    {"patient": ["A patient id is a number."]}
                ) from exc
        lab_only = has_role(request.user, Role.LAB) and not has_role(request.user, *CLINIC_ROLES)
        qs = selectors.report_list(
            patient_id=patient_id,
            accession=params.get("accession", ""),
            lab_account=request.user if lab_only else None,
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action="report.list",
            acting_user=request.user,
            patient_id=patient_id,
            detail={"patient_ids": sorted({r.patient_id for r in page})},
        )
        return paginator.get_paginated_response(ReportOutSerializer(page, many=True).data)
