"""DRF plumbing shared by every API: one error format, a base view, pagination."""

from __future__ import annotations

import copy

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiExample
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core.availability import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, is_database_unavailable
from core.exceptions import ApplicationError

INVALID_INPUT = "Invalid input: see extra.fields for each field's errors."


class OutSerializer(serializers.ModelSerializer):
    """A ModelSerializer for answers, its fields built once per class.

    DRF builds a ModelSerializer's fields afresh for every instance, introspecting the model
    each time: about 1.5 ms of the 2 ms a report with five variants took to serialise, on every
    report received and every row of a list. The fields depend only on the class (Meta and the
    declared fields, never the instance or the request), so each class builds them once and
    every instance gets a copy, as DRF itself copies declared fields.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")  # this class's own, not a parent's
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return copy.deepcopy(built)


def _flatten(detail) -> dict[str, list[str]]:
    """DRF error detail -> {"field": [messages]} with dotted paths for nested fields."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif (
            isinstance(value, list)
            and value
            and not all(isinstance(v, str | exceptions.ErrorDetail) for v in value)
        ):
            for index, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}[{index}]" if prefix else f"[{index}]", sub)
        else:
            items = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in items)

    walk("", detail)
    return out


def exception_handler(exc, context):
    """Every error answers {"message": str, "extra": {...}}; validation lists every field."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)

    if is_database_unavailable(exc):
        # PostgreSQL is down or unreachable: a retryable 503, not a 500 (issue 12 item 9).
        return Response(
            {"message": DATABASE_UNAVAILABLE, "extra": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django's 500 handling log it
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"message": INVALID_INPUT, "extra": {"fields": _flatten(exc.detail)}}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = {"message": str(detail), "extra": {}}
    return response


class ErrorSerializer(serializers.Serializer):
    """The one error shape every endpoint answers with."""

    message = serializers.CharField()
    extra = serializers.DictField(
        help_text='Details; for 400 answers {"fields": {"<field>": ["<message>", ...]}}.'
    )


ERROR_EXAMPLES = [
    OpenApiExample(
        "Validation error (400)",
        value={
            "message": INVALID_INPUT,
            "extra": {"fields": {"date_of_birth": ["Date of birth cannot be in the future."]}},
        },
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "Not allowed for this role (403)",
        value={"message": "Your role does not allow this action.", "extra": {}},
        response_only=True,
        status_codes=["403"],
    ),
]


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BaseApi(APIView):
    """Every API view: authenticated, and the user's role must be in `allowed_roles`.

    The check is REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES (settings: IsAuthenticated, then
    accounts.roles.HasRole), so this ground-floor class needs nothing from the accounts app; a
    view that declares no `allowed_roles` is closed.
    """

    allowed_roles: frozenset[str] = frozenset()

    def created(self, data) -> Response:
        return Response(data, status=status.HTTP_201_CREATED)


ERROR_RESPONSES = {
    "400": "Invalid input: every field error, in extra.fields.",
    "401": "Not authenticated: send 'Authorization: Token <token>' or log in.",
    "403": "Your role does not allow this call.",
    "404": "No such object (or not yours to see).",
}
# Operations with a body: one not in a media type the operation reads (a JSON body for a
# file upload, a body the multipart reader cannot take apart) is refused as such.
BODY_MEDIA_TYPE = "The body is not in a media type this call reads (see its request body)."


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation may answer 400/401/403/404 in the one error
    shape, and one with a body 415; document it everywhere so clients (and schemathesis)
    can rely on it."""
    schema = {"$ref": "#/components/schemas/Error"}
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            codes = dict(ERROR_RESPONSES)
            if "requestBody" in operation:
                codes["415"] = BODY_MEDIA_TYPE
            for code, description in codes.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": schema}},
                    },
                )
    return result


def paginated(item_serializer, name: str):
    """The schema of a paginated list answer (count, next, previous, results)."""
    from drf_spectacular.utils import inline_serializer

    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )


MAX_ID = 2**63 - 1  # PostgreSQL bigint


def int_query_param(request, name: str) -> int | None:
    """An optional id query parameter; 400 naming it when it is not a valid id."""
    value = request.query_params.get(name, "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise serializers.ValidationError({name: ["Must be a whole number (an id)."]})
    return number


# --- OpenAPI: ids are positive (issue 12 item 7) ---------------------------------------------


def _is_id_parameter(parameter: dict) -> bool:
    name = parameter.get("name", "")
    return parameter.get("in") == "path" and (name == "id" or name.endswith("_id"))


def document_id_bounds(result, generator, request, public):
    """drf-spectacular hook: every integer id in a path is 1..2^63-1, as PostgreSQL's bigint
    keys and the URL converters allow; state it so clients and schemathesis know."""
    for methods in result.get("paths", {}).values():
        for key, operation in methods.items():
            if key == "parameters" or not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if _is_id_parameter(parameter) and schema.get("type") == "integer":
                    schema["minimum"] = 1
                    schema["maximum"] = MAX_ID
    return result
