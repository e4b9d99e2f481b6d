"""Patient, regimen and scan calls of the API (DESIGN.md §6). Validate, one call, serialize."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers

from accounts.roles import CLINIC_ROLES
from audit.services import audit_record
from core.drf import (
    ERROR_EXAMPLES,
    BaseApi,
    ErrorSerializer,
    OutSerializer,
    Pagination,
    paginated,
)
from patients import selectors, services
from patients.formulary import get_formulary
from patients.models import ImagingAssessment, Patient, Regimen, SurveillanceState

ONCOLOGIST_UNKNOWN = "No active oncologist with username '{value}'."


class OncologistField(serializers.SlugRelatedField):
    """An oncologist given by username; the role itself is checked by the service."""

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="username",
            queryset=get_user_model().objects.filter(is_active=True),
            **kwargs,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            raise serializers.ValidationError(ONCOLOGIST_UNKNOWN.format(value=str(data)[:50]))
        user = self.get_queryset().filter(username=data).first()
        if user is None:
            raise serializers.ValidationError(ONCOLOGIST_UNKNOWN.format(value=data))
        return user


@extend_schema_field(
    {"type": "string", "description": "A lower-case drug code from the formulary."}
)
class FormularyChoiceField(serializers.CharField):
    """A drug code from the formulary (read at request time, not import time)."""

    def __init__(self, group: str, **kwargs):
        self.group = group
        super().__init__(max_length=32, **kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        if code == "" and self.allow_blank:
            return code
        known = dict(get_formulary().choices(self.group))
        if code not in known:
            raise serializers.ValidationError(
                f"Unknown code '{code}'; choose one of: {', '.join(known)}."
            )
        return code


class RegimenOutSerializer(OutSerializer):
    class Meta:
        model = Regimen
        fields = [
            "id",
            "endocrine_agent",
            "cdk46_inhibitor",
            "lhrh_agonist",
            "started_on",
            "ended_on",
            "end_reason",
        ]


class ScanOutSerializer(OutSerializer):
    class Meta:
        model = ImagingAssessment
        fields = ["id", "performed_on", "modality", "outcome", "note", "regimen"]


class CurrentRegimenSerializer(serializers.Serializer):
    endocrine_agent = serializers.CharField()
    cdk46_inhibitor = serializers.CharField(allow_blank=True)
    started_on = serializers.DateField()


class LatestScanSerializer(serializers.Serializer):
    performed_on = serializers.DateField()
    outcome = serializers.CharField()


class PatientOutSerializer(OutSerializer):
    oncologist = serializers.CharField(source="oncologist.username")
    current_regimen = serializers.SerializerMethodField()
    latest_scan = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "oncologist",
            "surveillance_state",
            "surveillance_start_on",
            "surveillance_interval_weeks",
            "current_regimen",
            "latest_scan",
        ]

    @extend_schema(responses=CurrentRegimenSerializer(allow_null=True))
    def get_current_regimen(self, obj) -> dict | None:
        if getattr(obj, "current_endocrine_agent", None) is None:
            return None
        return {
            "endocrine_agent": obj.current_endocrine_agent,
            "cdk46_inhibitor": obj.current_cdk46_inhibitor,
            "started_on": obj.current_started_on,
        }

    @extend_schema(responses=LatestScanSerializer(allow_null=True))
    def get_latest_scan(self, obj) -> dict | None:
        if getattr(obj, "latest_scan_on", None) is None:
            return None
        return {"performed_on": obj.latest_scan_on, "outcome": obj.latest_scan_outcome}


PATIENT_EXAMPLE = {
    "mrn": "MRN-0001",
    "given_name": "Ada",
    "family_name": "Example",
    "date_of_birth": "1961-04-02",
    "oncologist": "dr_smith",
    "surveillance_interval_weeks": 8,
}


class PatientListCreateApi(BaseApi):
    allowed_roles = CLINIC_ROLES

    @extend_schema_serializer(component_name="PatientCreateInput")
    class InputSerializer(serializers.Serializer):
        mrn = serializers.CharField(max_length=32)
        given_name = serializers.CharField(max_length=100)
        family_name = serializers.CharField(max_length=100)
        date_of_birth = serializers.DateField()
        oncologist = OncologistField()
        surveillance_start_on = serializers.DateField(required=False, allow_null=True)
        surveillance_interval_weeks = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(
        operation_id="patients_list",
        parameters=[
            OpenApiParameter("search", str, description="Name or MRN (prefix)"),
            OpenApiParameter("state", str, enum=SurveillanceState.values),
            OpenApiParameter("page", int),
        ],
        responses={200: paginated(PatientOutSerializer, "Patient"), 403: ErrorSerializer},
    )
    def get(self, request):
        qs = selectors.patient_list(
            search=request.query_params.get("search", ""),
            state=request.query_params.get("state", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action="patient.list",
            acting_user=request.user,
            detail={"count": len(page), "patient_ids": [p.pk for p in page]},
        )
        return paginator.get_paginated_response(PatientOutSerializer(page, many=True).data)

    @extend_schema(
        operation_id="patients_create",
        request=InputSerializer,
        responses={201: PatientOutSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
        examples=[
            OpenApiExample("New patient", value=PATIENT_EXAMPLE, request_only=True),
            *ERROR_EXAMPLES,
        ],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_create(**serializer.validated_data, acting_user=request.user)
        patient = selectors.patient_get(patient_id=patient.pk)
        return self.created(PatientOutSerializer(patient).data)
