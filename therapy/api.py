"""GET /api/v1/alerts/ and /api/v1/alerts/{id}/ (DESIGN.md §6)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from accounts.roles import Role
from audit.services import audit_record
from core.drf import (
    BaseApi,
    ErrorSerializer,
    OutSerializer,
    Pagination,
    int_query_param,
    paginated,
)
from patients.models import ImagingAssessment
from therapy import selectors
from therapy.config import rule_config
from therapy.decisions import alert_acknowledge, alert_review
from therapy.models import Alert
from therapy.presentation import rule_counts
from therapy.reasons import ReasonCode

ALERT_READERS = frozenset({Role.ONCOLOGIST, Role.ADMIN, Role.NURSE})


class EvidenceVariantSerializer(serializers.Serializer):
    gene = serializers.CharField()
    hgvs_p = serializers.CharField()
    vaf = serializers.FloatField(help_text="Allele fraction as a fraction (0-1).")
    vaf_percent = serializers.FloatField()
    filter = serializers.CharField(
        help_text="The caller's FILTER when not PASS: such a call is never used by the rule."
    )
    counted = serializers.BooleanField(
        help_text="Whether the switch rule counts this call (unfiltered, on the allow-list, "
        "at or above the floor): the alert rests on the counted calls only."
    )


class EvidenceSerializer(serializers.Serializer):
    report_id = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    collected_on = serializers.DateField()
    variants = EvidenceVariantSerializer(many=True)


class AlertOutSerializer(OutSerializer):
    evidence = serializers.SerializerMethodField()
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "patient",
            "kind",
            "state",
            "rule_version",
            "evidence",
            "escalation_level",
            "needs_confirmatory_imaging",
            "opened_at",
            "defer_until",
            "decision",
            "reason_code",
            "comment",
            "decided_at",
            "effective_on",
            "new_regimen",
            "withdrawn_reason",
            "withdrawn_at",
            "withdrawn_detail",
            "flagged_for_review",
            "flag_detail",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "decided_by",
            "episode",
            "revision",
            "facts_snapshot",
        ]

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, alert) -> list[dict]:
        config = rule_config()
        rows = []
        for item in alert.evidence.all():
            report = item.report
            rows.append(
                {
                    "report_id": report.report_id,
                    "version": report.version,
                    "status": report.status,
                    "collected_on": report.collected_on,
                    "variants": [
                        {
                            "gene": v.gene,
                            "hgvs_p": v.hgvs_p,
                            "vaf": float(v.vaf),
                            "vaf_percent": float(v.vaf * 100),
                            "filter": v.filter,
                            "counted": rule_counts(v, config),
                        }
                        for v in report.variants.all()
                        if v.gene == "ESR1"
                    ],
                }
            )
        return sorted(rows, key=lambda r: (r["collected_on"], r["version"]))


class AlertListApi(BaseApi):
    allowed_roles = ALERT_READERS

    @extend_schema(
        operation_id="alerts_list",
        parameters=[
            OpenApiParameter("patient", int),
            OpenApiParameter("state", str, enum=Alert.State.values),
            OpenApiParameter("kind", str, enum=Alert.Kind.values),
            OpenApiParameter("page", int),
        ],
        responses={200: paginated(AlertOutSerializer, "Alert"), 403: ErrorSerializer},
        description="Oncologists and admins; nurses read only.",
    )
    def get(self, request):
        params = request.query_params
        for name, allowed in (("state", Alert.State.values), ("kind", Alert.Kind.values)):
            if params.get(name) and params[name] not in allowed:
                raise serializers.ValidationError(
                    {name: [f"Must be one of: {', '.join(allowed)}."]}
                )
        qs = selectors.alert_list(
            patient_id=int_query_param(request, "patient"),
            state=params.get("state", ""),
            kind=params.get("kind", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        audit_record(
            action="alert.list",
            acting_user=request.user,
            detail={"patient_ids": sorted({a.patient_id for a in page})},
        )
        return paginator.get_paginated_response(AlertOutSerializer(page, many=True).data)


class AlertDetailApi(BaseApi):
    allowed_roles = ALERT_READERS

    @extend_schema(
        operation_id="alerts_retrieve",
        responses={200: AlertOutSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, alert_id: int):
        alert = get_object_or_404(selectors.alert_list(), pk=alert_id)
        audit_record(
            action="alert.view", acting_user=request.user, obj=alert, patient_id=alert.patient_id
        )
        return Response(AlertOutSerializer(alert).data)


class ConfirmatoryScanSerializer(serializers.Serializer):
    performed_on = serializers.DateField()
    modality = serializers.ChoiceField(choices=ImagingAssessment.Modality.choices)
    outcome = serializers.ChoiceField(choices=ImagingAssessment.Outcome.choices)


@extend_schema_serializer(component_name="AlertAcknowledgeIn")
class AcknowledgeInSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Alert.Decision.choices)
    reason_code = serializers.ChoiceField(
        choices=ReasonCode.choices, required=False, allow_blank=True
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    effective_on = serializers.DateField(required=False, allow_null=True)
    defer_until = serializers.DateField(required=False, allow_null=True)
    confirmatory_scan = ConfirmatoryScanSerializer(required=False, allow_null=True)
    attest_no_progression = serializers.BooleanField(required=False, default=False)
    revision = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The alert's revision you decided on (from GET); a stale one answers 409.",
    )


class RegimenBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    endocrine_agent = serializers.CharField()
    cdk46_inhibitor = serializers.CharField()
    started_on = serializers.DateField()


class AcknowledgeOutSerializer(serializers.Serializer):
    alert = AlertOutSerializer()
    new_regimen = RegimenBriefSerializer(allow_null=True)


class AlertAcknowledgeApi(BaseApi):
    allowed_roles = frozenset({Role.ONCOLOGIST})

    @extend_schema(
        operation_id="alerts_acknowledge",
        request=AcknowledgeInSerializer,
        responses={
            200: AcknowledgeOutSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Switch today",
                value={"decision": "switch", "effective_on": "2026-11-24"},
                request_only=True,
            ),
            OpenApiExample(
                "Switch with a confirmatory scan",
                value={
                    "decision": "switch",
                    "effective_on": "2026-11-24",
                    "confirmatory_scan": {
                        "performed_on": "2026-11-23",
                        "modality": "ct",
                        "outcome": "no_progression",
                    },
                },
                request_only=True,
            ),
            OpenApiExample(
                "Defer",
                value={
                    "decision": "defer",
                    "defer_until": "2026-12-15",
                    "reason_code": "awaiting_imaging",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Decline",
                value={
                    "decision": "decline",
                    "reason_code": "possible_chip_or_low_vaf",
                    "comment": "VAF 0.04%, repeat at next draw.",
                },
                request_only=True,
            ),
        ],
        description=(
            "The oncologist's decision. switch: ends the aromatase inhibitor (reason "
            "ctDNA-guided switch) and starts camizestrant with the same CDK4/6 inhibitor on "
            "effective_on, in one transaction; when confirmatory imaging is needed, give a "
            "no-progression confirmatory_scan or attest_no_progression (audited). defer: the "
            "alert comes back on defer_until. decline: a coded reason (comment for 'other')."
        ),
    )
    def post(self, request, alert_id: int):
        alert = get_object_or_404(Alert, pk=alert_id)
        serializer = AcknowledgeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        # Without an explicit revision, the one this request saw: two decisions sent at once
        # give one 200 and one 409, never two recorded decisions.
        data.setdefault("revision", alert.revision)
        alert = alert_acknowledge(alert=alert, acting_user=request.user, **data)
        alert = selectors.alert_list().get(pk=alert.pk)
        regimen = alert.new_regimen
        return Response(
            {
                "alert": AlertOutSerializer(alert).data,
                "new_regimen": RegimenBriefSerializer(regimen).data if regimen else None,
            }
        )


@extend_schema_serializer(component_name="AlertReviewIn")
class ReviewInSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=2000,
        help_text="What you reviewed and what follows from it; it stays on the alert.",
    )
    revision = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="The alert's revision you reviewed (from GET); a stale one answers 409.",
    )


class AlertReviewApi(BaseApi):
    allowed_roles = frozenset({Role.ONCOLOGIST})

    @extend_schema(
        operation_id="alerts_review",
        request=ReviewInSerializer,
        responses={
            200: AlertOutSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        description=(
            "Record the review of a decided alert flagged because its evidence changed after "
            "the decision (flagged_for_review): the flag clears; the note, who and when stay "
            "on the alert (review_note, reviewed_by, reviewed_at). It changes no therapy. 409 "
            "when the alert is not flagged or its revision is stale; a later material change "
            "flags it again."
        ),
    )
    def post(self, request, alert_id: int):
        alert = get_object_or_404(Alert, pk=alert_id)
        serializer = ReviewInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        alert_review(
            alert=alert,
            acting_user=request.user,
            note=data["note"],
            revision=data.get("revision", alert.revision),
        )
        return Response(AlertOutSerializer(selectors.alert_list().get(pk=alert.pk)).data)
