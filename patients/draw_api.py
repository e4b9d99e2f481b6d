"""The draw calls of the API (DESIGN.md §6). The worklist page calls the same services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.roles import CLINIC_ROLES, Role, has_role
from audit.services import audit_record
from core.drf import (
    ERROR_EXAMPLES,
    BaseApi,
    ErrorSerializer,
    OutSerializer,
    Pagination,
    int_query_param,
    paginated,
)
from patients import scheduling, selectors
from patients.forms import collection_outside_window, outside_window_message
from patients.models import Draw

LAB_NEEDS_ACCESSION = "Lab accounts may only look up a draw by its accession."
# The same answer for an accession that does not exist and one sent to another lab.
LAB_NO_SUCH_DRAW = "No draw with this accession was sent to your lab."
LAB_ACCOUNT_UNASSIGNED = (
    "This lab account is not assigned to a lab (LAB_ACCOUNTS lists it for none): it can see "
    "no draw. Ask an administrator to add it to its lab."
)
NOT_FOUND_EXAMPLE = OpenApiExample(
    "Not found (404)",
    value={"message": "Not found.", "extra": {}},
    response_only=True,
    status_codes=["404"],
)
NOT_OPEN_EXAMPLE = OpenApiExample(
    "Draw not open (409)",
    value={
        "message": "This draw is cancelled; only a scheduled draw can be collected.",
        "extra": {"state": "cancelled"},
    },
    response_only=True,
    status_codes=["409"],
)


class DrawOutSerializer(OutSerializer):
    class Meta:
        model = Draw
        fields = [
            "id",
            "patient",
            "state",
            "planned_on",
            "due_on",
            "window_opens_on",
            "window_closes_on",
            "is_redraw",
            "redraw_of",
            "accession",
            "collected_at",
            "collected_on",
            "lab",
            "reason_code",
            "reason_note",
        ]


class DrawLabOutSerializer(DrawOutSerializer):
    """A draw as a lab account sees it (by accession): no nurse's free-text note."""

    class Meta(DrawOutSerializer.Meta):
        fields = [f for f in DrawOutSerializer.Meta.fields if f != "reason_note"]


class DrawActionOutSerializer(serializers.Serializer):
    draw = DrawOutSerializer()
    next_draw = DrawOutSerializer(allow_null=True, help_text="The patient's open draw now.")


ACTION_RESPONSES = {
    200: DrawActionOutSerializer,
    400: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


def _action_response(draw: Draw) -> Response:
    draw.refresh_from_db()
    return Response(
        DrawActionOutSerializer(
            {"draw": draw, "next_draw": selectors.open_draw(patient_id=draw.patient_id)}
        ).data
    )


class DrawListApi(BaseApi):
    allowed_roles = CLINIC_ROLES | {Role.LAB}

    @extend_schema(
        operation_id="draws_list",
        parameters=[
            OpenApiParameter("patient", int, description="Internal patient id (clinic roles)"),
            OpenApiParameter("state", str, enum=Draw.State.values),
            OpenApiParameter("accession", str, description="Exact specimen accession"),
            OpenApiParameter("page", int),
        ],
        responses={
            200: paginated(DrawOutSerializer, "Draw"),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        description=(
            "Clinic roles list draws; a lab account must give `accession` (only) and sees "
            "only draws sent to its lab (404 otherwise, whether or not the accession exists), "
            "without the nurse's free-text `reason_note`; an account LAB_ACCOUNTS lists in no "
            "lab sees none (403 saying so)."
        ),
    )
    def get(self, request):
        params = request.query_params
        accession = params.get("accession", "").strip()
        lab_only = has_role(request.user, Role.LAB) and not has_role(request.user, *CLINIC_ROLES)
        if lab_only and (not accession or set(params) - {"accession", "page"}):
            raise PermissionDenied(LAB_NEEDS_ACCESSION)
        patient_id = int_query_param(request, "patient")
        state = params.get("state", "")
        if state and state not in Draw.State.values:
            raise serializers.ValidationError(
                {"state": [f"Unknown state; choose one of: {', '.join(Draw.State.values)}."]}
            )
        qs = selectors.draw_list(patient_id=patient_id, state=state, accession=accession)
        if lab_only:
            lab = scheduling.lab_of_account(request.user)
            if lab is None:
                raise PermissionDenied(LAB_ACCOUNT_UNASSIGNED)
            qs = qs.filter(scheduling.lab_draws(request.user, lab))
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        if lab_only and not page:
            raise NotFound(LAB_NO_SUCH_DRAW)
        audit_record(
            action="draw.list",
            acting_user=request.user,
            patient_id=patient_id,
            detail={"patient_ids": sorted({d.patient_id for d in page})},
        )
        out = DrawLabOutSerializer if lab_only else DrawOutSerializer
        return paginator.get_paginated_response(out(page, many=True).data)


class DrawDetailApi(BaseApi):
    allowed_roles = CLINIC_ROLES

    @extend_schema(
        operation_id="draws_retrieve",
        responses={200: DrawOutSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, draw_id: int):
        draw = selectors.draw_get(draw_id=draw_id)
        audit_record(
            action="draw.view", acting_user=request.user, obj=draw, patient_id=draw.patient_id
        )
        return Response(DrawOutSerializer(draw).data)


class DrawActionApi(BaseApi):
    """A nurse's action on one draw: validate, one scheduling service, the draw and next."""

    allowed_roles = frozenset({Role.NURSE})
    service = None  # the scheduling function, set by each subclass

    def act(self, request, draw_id: int) -> Response:
        draw = selectors.draw_get(draw_id=draw_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        type(self).service(draw=draw, **serializer.validated_data, acting_user=request.user)
        return _action_response(draw)


class DrawCollectApi(DrawActionApi):
    service = staticmethod(scheduling.draw_collect)

    @extend_schema_serializer(component_name="DrawCollectInput")
    class InputSerializer(serializers.Serializer):
        collected_at = serializers.DateTimeField(
            help_text="When the blood was drawn (ISO 8601; a time without zone is clinic time)."
        )
        accession = serializers.CharField(max_length=64, help_text="Specimen accession (unique).")
        lab = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=64,
            help_text="The lab the sample is sent to (a LAB_ACCOUNTS code); DEFAULT_LAB if empty.",
        )
        confirm_outside_window = serializers.BooleanField(
            required=False,
            default=False,
            help_text="A time before the draw's window opens, or long after it closed, is "
            "usually a typing slip (2016 for 2026) and is refused (400 on collected_at) "
            "unless this is true: the page's 'Record anyway' tick.",
        )

    @extend_schema(
        operation_id="draws_collect",
        request=InputSerializer,
        responses=ACTION_RESPONSES,
        examples=[
            OpenApiExample(
                "Collected this morning",
                value={"collected_at": "2026-11-24T09:40:00+00:00", "accession": "ACC-000123"},
                request_only=True,
            ),
            *ERROR_EXAMPLES,
            NOT_FOUND_EXAMPLE,
            NOT_OPEN_EXAMPLE,
        ],
    )
    def post(self, request, draw_id: int):
        draw = selectors.draw_get(draw_id=draw_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirmed = data.pop("confirm_outside_window")
        outside = collection_outside_window(draw, data["collected_at"])
        if outside and not confirmed and draw.state == Draw.State.SCHEDULED:
            message = outside_window_message(draw, data["collected_at"], outside)
            raise ValidationError({"collected_at": [message.replace(API_TICK, API_CONFIRM)]})
        scheduling.draw_collect(draw=draw, **data, acting_user=request.user)
        return _action_response(draw)


# The page says how to confirm on the page; the API, in its own terms.
API_TICK = "tick 'Record anyway' to save it"
API_CONFIRM = "send confirm_outside_window: true to record it"


class DrawMissApi(DrawActionApi):
    service = staticmethod(scheduling.draw_mark_missed)

    @extend_schema_serializer(component_name="DrawMissInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=Draw.MissReason.choices)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        operation_id="draws_miss",
        request=InputSerializer,
        responses=ACTION_RESPONSES,
        examples=[
            OpenApiExample("Did not attend", value={"reason": "did_not_attend"}, request_only=True),
            *ERROR_EXAMPLES,
            NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, draw_id: int):
        return self.act(request, draw_id)


class DrawCancelApi(DrawActionApi):
    service = staticmethod(scheduling.draw_cancel)

    @extend_schema_serializer(component_name="DrawCancelInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=sorted(scheduling.NURSE_CANCEL_REASONS))
        comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        operation_id="draws_cancel",
        request=InputSerializer,
        responses=ACTION_RESPONSES,
        examples=[*ERROR_EXAMPLES, NOT_FOUND_EXAMPLE],
    )
    def post(self, request, draw_id: int):
        return self.act(request, draw_id)


class DrawRescheduleApi(DrawActionApi):
    service = staticmethod(scheduling.draw_reschedule)

    @extend_schema_serializer(component_name="DrawRescheduleInput")
    class InputSerializer(serializers.Serializer):
        # The rules of the page's form (scheduling.draw_reschedule checks them for both).
        due_on = serializers.DateField(
            help_text=(
                "The new day: not in the past, at most one surveillance interval from the "
                "planned date. Outside the draw's window it needs a `reason`, and the window "
                "moves with it."
            )
        )
        reason = serializers.ChoiceField(
            choices=list(scheduling.RESCHEDULE_REASONS.items()),
            required=False,
            allow_blank=True,
            help_text="Why the draw moves outside its window (required there).",
        )
        comment = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="Required when the reason is 'other'.",
        )

    @extend_schema(
        operation_id="draws_reschedule",
        request=InputSerializer,
        responses=ACTION_RESPONSES,
        examples=[
            OpenApiExample(
                "Outside the window, patient away",
                value={"due_on": "2027-01-08", "reason": "patient_request", "comment": "Away"},
                request_only=True,
            ),
            *ERROR_EXAMPLES,
            NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, draw_id: int):
        return self.act(request, draw_id)
