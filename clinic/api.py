"""The endpoints that call the cross-app workflows: lab reports and files, and scans.

Reports (POST: labs; GET: clinic roles, a lab its own), uploads (the uploader) and a patient's
scans (clinic roles), each declared once here, where clinic/urls.py routes it.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.roles import CLINIC_ROLES, Role, has_role
from audit.services import audit_record
from clinic.workflows import (
    UploadRefused,
    patient_change,
    regimen_receive,
    report_receive,
    scan_receive,
    upload_receive,
)
from core.drf import (
    ERROR_EXAMPLES,
    BaseApi,
    ErrorSerializer,
    Pagination,
    int_query_param,
    paginated,
)
from core.exceptions import Mismatch
from liquidbiopsy import selectors
from liquidbiopsy.api import ReportInSerializer, ReportOutSerializer, ReportReceiptSerializer
from liquidbiopsy.models import Upload
from liquidbiopsy.services import NotAssigned, report_match_failures_record
from liquidbiopsy.throttles import LabMatchFailureThrottle, MatchFailureThrottled
from patients import selectors as patient_selectors
from patients.api import (
    FormularyChoiceField,
    OncologistField,
    PatientOutSerializer,
    RegimenOutSerializer,
    ScanOutSerializer,
)
from patients.models import ImagingAssessment, Regimen, SurveillanceState

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
                    "patient": [
                        "The patient identifiers do not match the draw with accession "
                        "'ACC-000123'; check the MRN and the date of birth."
                    ]
                },
                "match": "identity",
            },
        },
        response_only=True,
        status_codes=["422"],
    ),
]


class ReportsApi(MatchFailureThrottled, BaseApi):
    allowed_roles = CLINIC_ROLES | {Role.LAB}
    write_roles = frozenset({Role.LAB})
    throttle_classes = [LabMatchFailureThrottle]

    @extend_schema(
        operation_id="reports_create",
        request=ReportInSerializer,
        responses={
            201: ReportReceiptSerializer,
            200: ReportReceiptSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
        examples=EXAMPLES,
        description=(
            "Store one version of a lab report. 201: stored; 200: an identical re-send "
            "(nothing changed); 400: every field error; 404: no draw with this accession was "
            "sent to the lab; 409: the same (report_id, version) with other content, or an "
            "older version; 422: the patient identifiers do not match the draw (one message "
            "whichever failed), the draw is not collected, or collected_on is not the draw's "
            "collection date (both named); 429: too many reports that did not match. Allele "
            "fraction: exactly one of `vaf` (a fraction) or `vaf_percent` per variant; tumour "
            "fraction likewise `tumor_fraction` or `tumor_fraction_percent`."
        ),
    )
    def post(self, request):
        try:
            receipt = report_receive(payload=request.data, lab_account=request.user)
        except (NotAssigned, Mismatch) as exc:
            match = (exc.extra or {}).get("match", "")
            if match in ("accession", "identity"):  # audited outside the rolled-back write
                accession = request.data.get("accession") if isinstance(request.data, dict) else ""
                report_match_failures_record(
                    lab_account=request.user, failures=[(str(accession or "")[:64], match)]
                )
            raise
        body = dict(ReportOutSerializer(receipt.report).data)
        body["alerts"] = [
            {
                "id": a.pk,
                "kind": a.kind,
                "state": a.state,
                "needs_confirmatory_imaging": a.needs_confirmatory_imaging,
                "rule_version": a.rule_version,
            }
            for a in receipt.alerts
        ]
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
        responses={
            200: paginated(ReportOutSerializer, "Report"),
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
        description="Clinic roles see all reports; a lab account sees only its own.",
    )
    def get(self, request):
        params = request.query_params
        patient_id = int_query_param(request, "patient")
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


class UploadOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="queued, processing, done or failed (nothing stored)")
    filename = serializers.CharField()
    file_format = serializers.CharField()
    rows_total = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    reports_stored = serializers.IntegerField()
    reports_unchanged = serializers.IntegerField()
    errors = serializers.ListField(
        child=serializers.DictField(), help_text="[{line, field, message}]; line 1 is the header"
    )
    notes = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{line, field, message}]: lines the reader skipped and did not store (a "
        "structural variant outside ESR1); not errors",
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="ReportUploadIn")
class UploadInSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV (one row per variant call) or a VCF (one report)."
    )


UPLOAD_STATUS = {
    Upload.State.QUEUED: status.HTTP_202_ACCEPTED,
    Upload.State.PROCESSING: status.HTTP_202_ACCEPTED,
}
FILE_REJECTED = (
    "The file was rejected: nothing from it was stored. Every problem is in extra.errors "
    "with its line (the CSV header is line 1)."
)


class ReportUploadApi(MatchFailureThrottled, BaseApi):
    allowed_roles = frozenset({Role.LAB})
    throttle_classes = [LabMatchFailureThrottle]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="reports_upload",
        request={"multipart/form-data": UploadInSerializer},
        responses={
            201: UploadOutSerializer,
            200: UploadOutSerializer,
            202: UploadOutSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Rejected file (400): nothing stored",
                value={
                    "message": FILE_REJECTED,
                    "extra": {
                        "upload_id": 7,
                        "errors": [
                            {
                                "line": 3,
                                "field": "variants[0].vaf",
                                "message": "vaf is a fraction: 0 < vaf <= 1 (for a percentage use vaf_percent).",
                            }
                        ],
                    },
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        description=(
            "Upload a CSV or VCF of reports. The whole file is validated before anything is "
            "stored. Small files (up to UPLOAD_SYNC_MAX_ROWS lines) are answered at once: 201 "
            "stored, 200 nothing new, 400 rejected with every error and its line. Larger files "
            "answer 202; poll GET /api/v1/uploads/{id}/."
        ),
    )
    def post(self, request):
        file = request.FILES.get("file")
        try:
            upload = upload_receive(
                filename=getattr(file, "name", "") or "",
                data=file.read() if file is not None else b"",
                lab_account=request.user,
            )
        except UploadRefused as exc:
            raise serializers.ValidationError({"file": [exc.message]}) from exc
        if upload.state == Upload.State.FAILED:
            data = UploadOutSerializer(upload).data
            return Response(
                {
                    "message": FILE_REJECTED,
                    "extra": {"upload_id": upload.pk, "errors": data["errors"], "upload": data},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        code = UPLOAD_STATUS.get(upload.state)
        if code is None:
            code = status.HTTP_201_CREATED if upload.reports_stored else status.HTTP_200_OK
        return Response(UploadOutSerializer(upload).data, status=code)


class UploadDetailApi(BaseApi):
    allowed_roles = frozenset({Role.LAB, Role.ADMIN})

    @extend_schema(
        operation_id="uploads_retrieve",
        responses={200: UploadOutSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="An upload's progress and result, for the account that uploaded it.",
    )
    def get(self, request, upload_id: int):
        upload = get_object_or_404(
            Upload.objects.defer("content"), pk=upload_id, uploaded_by=request.user
        )
        return Response(UploadOutSerializer(upload).data)


class PatientScansApi(BaseApi):
    """GET/POST /api/v1/patients/{id}/scans/: recording a scan re-runs the switch rule."""

    allowed_roles = CLINIC_ROLES

    @extend_schema_serializer(component_name="ScanCreateInput")
    class InputSerializer(serializers.Serializer):
        performed_on = serializers.DateField()
        modality = serializers.ChoiceField(choices=ImagingAssessment.Modality.choices)
        outcome = serializers.ChoiceField(choices=ImagingAssessment.Outcome.choices)
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        operation_id="patients_scans_list",
        responses={200: ScanOutSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request, patient_id: int):
        patient = patient_selectors.patient_view(
            patient_id=patient_id, user=request.user, what="api_scans"
        )
        scans = patient_selectors.scan_list(patient=patient)
        return Response(ScanOutSerializer(scans, many=True).data)

    @extend_schema(
        operation_id="patients_scans_create",
        request=InputSerializer,
        responses={201: ScanOutSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "No progression on CT",
                value={"performed_on": "2026-10-01", "modality": "ct", "outcome": "no_progression"},
                request_only=True,
            ),
            *ERROR_EXAMPLES,
        ],
    )
    def post(self, request, patient_id: int):
        patient = patient_selectors.patient_get(patient_id=patient_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scan, _alerts = scan_receive(
            patient=patient, **serializer.validated_data, acting_user=request.user
        )
        return Response(ScanOutSerializer(scan).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(BaseApi):
    """GET/PATCH /api/v1/patients/{id}/: a state change re-runs the alert reconcile."""

    allowed_roles = CLINIC_ROLES

    @extend_schema_serializer(component_name="PatientUpdateInput")
    class InputSerializer(serializers.Serializer):
        surveillance_start_on = serializers.DateField(required=False, allow_null=True)
        surveillance_interval_weeks = serializers.IntegerField(required=False)
        oncologist = OncologistField(required=False)
        surveillance_state = serializers.ChoiceField(
            choices=SurveillanceState.choices, required=False
        )

        def validate(self, attrs):
            unknown = set(self.initial_data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown or read-only field."] for key in sorted(unknown)}
                )
            return attrs

    @extend_schema(
        operation_id="patients_retrieve",
        responses={200: PatientOutSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, patient_id: int):
        patient = patient_selectors.patient_view(
            patient_id=patient_id, user=request.user, what="api"
        )
        return Response(PatientOutSerializer(patient).data)

    @extend_schema(
        operation_id="patients_partial_update",
        request=InputSerializer,
        responses={200: PatientOutSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Withdraw from surveillance",
                value={"surveillance_state": "withdrawn"},
                request_only=True,
            ),
            *ERROR_EXAMPLES,
        ],
    )
    def patch(self, request, patient_id: int):
        patient = patient_selectors.patient_get(patient_id=patient_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient_change(patient=patient, acting_user=request.user, changes=serializer.validated_data)
        return Response(
            PatientOutSerializer(patient_selectors.patient_get(patient_id=patient_id)).data
        )


class PatientRegimensApi(BaseApi):
    """GET/POST /api/v1/patients/{id}/regimens/: a new regimen re-runs the alert reconcile."""

    allowed_roles = CLINIC_ROLES

    @extend_schema_serializer(component_name="RegimenCreateInput")
    class InputSerializer(serializers.Serializer):
        endocrine_agent = FormularyChoiceField("endocrine_agents")
        cdk46_inhibitor = FormularyChoiceField("cdk46_inhibitors", required=False, allow_blank=True)
        lhrh_agonist = FormularyChoiceField("lhrh_agonists", required=False, allow_blank=True)
        started_on = serializers.DateField()
        previous_end_reason = serializers.ChoiceField(
            choices=Regimen.EndReason.choices, required=False
        )

    @extend_schema(
        operation_id="patients_regimens_list",
        responses={200: RegimenOutSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request, patient_id: int):
        patient = patient_selectors.patient_view(
            patient_id=patient_id, user=request.user, what="api_regimens"
        )
        return Response(
            RegimenOutSerializer(patient_selectors.regimen_list(patient=patient), many=True).data
        )

    @extend_schema(
        operation_id="patients_regimens_create",
        request=InputSerializer,
        responses={201: RegimenOutSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Letrozole with palbociclib",
                value={
                    "endocrine_agent": "letrozole",
                    "cdk46_inhibitor": "palbociclib",
                    "started_on": "2026-03-02",
                },
                request_only=True,
            ),
            *ERROR_EXAMPLES,
        ],
    )
    def post(self, request, patient_id: int):
        patient = patient_selectors.patient_get(patient_id=patient_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        regimen = regimen_receive(
            patient=patient,
            endocrine_agent=data["endocrine_agent"],
            cdk46_inhibitor=data.get("cdk46_inhibitor", ""),
            lhrh_agonist=data.get("lhrh_agonist", ""),
            started_on=data["started_on"],
            previous_end_reason=data.get("previous_end_reason", Regimen.EndReason.NEW_REGIMEN),
            acting_user=request.user,
        )
        return self.created(RegimenOutSerializer(regimen).data)
