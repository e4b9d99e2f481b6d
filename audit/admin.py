"""The audit trail in the admin: searchable by MRN, name or accession, linked to the patient.

`audit` sits below `patients` in the layers, so it imports nothing from it: the patient and
draw tables are reached through the app registry (`apps.get_model`) for the search and the
patient column only, and the patient page through its URL name.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat, Upper
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from audit.models import AuditEvent

SEARCH_HELP = "MRN, patient name, accession, patient id, object id, actor or action"
# A search names few patients; more than this is a prefix too short to mean one person.
MAX_PATIENTS_FOR_A_SEARCH = 200


def _patients_matching(term: str) -> list[int]:
    """Patient ids for an MRN, a name (family, given or "family, given") or an accession."""
    term = term.replace("\x00", "").strip()
    if not term:
        return []
    patient_model = apps.get_model("patients", "Patient")
    draw_model = apps.get_model("patients", "Draw")
    by_accession = draw_model.objects.filter(accession=term).values("patient_id")
    family, _, given = (part.strip() for part in term.partition(","))
    by_name = Q(family_name__istartswith=term) | Q(given_name__istartswith=term)
    if given:
        by_name |= Q(family_name__iexact=family, given_name__istartswith=given)
    found = patient_model.objects.filter(
        Q(mrn__iexact=term) | Q(mrn__istartswith=term) | by_name | Q(pk__in=by_accession)
    ).values_list("pk", flat=True)[:MAX_PATIENTS_FOR_A_SEARCH]
    return list(found)


def _detail_value(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_detail_value(v)}" for k, v in value.items()) or "—"
    if value is None or value == "":
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Browse and filter the trail; nothing here can add, change or delete an event."""

    list_display = (
        "at",
        "actor_label",
        "channel",
        "action",
        "object_type",
        "object_id",
        "patient_link",
        "detail_summary",
    )
    list_filter = ("channel", "action", ("at", admin.DateFieldListFilter))
    search_fields = ("=patient_id", "=object_id", "actor_label", "action")
    search_help_text = SEARCH_HELP
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False  # counting millions of rows on every page is slow
    readonly_fields = (
        "at",
        "actor",
        "actor_label",
        "channel",
        "action",
        "object_type",
        "object_id",
        "patient_link",
        "detail_readable",
    )
    exclude = ("detail", "patient_id")

    def get_queryset(self, request):
        """The patient's MRN and name in the same query as the events (no query per row)."""
        patient_model = apps.get_model("patients", "Patient")
        patient = patient_model.objects.filter(pk=OuterRef("patient_id"))
        return (
            super()
            .get_queryset(request)
            .select_related("actor")
            .annotate(
                patient_label=Subquery(
                    patient.annotate(
                        label=Concat(
                            "mrn", Value(" · "), Upper("family_name"), Value(", "), "given_name"
                        )
                    ).values("label")[:1]
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        patient_ids = _patients_matching(search_term)
        if patient_ids:
            queryset |= self.get_queryset(request).filter(patient_id__in=patient_ids)
        return queryset, may_have_duplicates

    @admin.display(description="Patient", ordering="patient_id")
    def patient_link(self, obj):
        if obj.patient_id is None:
            return "—"
        label = getattr(obj, "patient_label", None) or f"patient {obj.patient_id}"
        try:
            url = reverse("patient_detail", args=[obj.patient_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="Detail")
    def detail_summary(self, obj):
        detail = obj.detail or {}
        if not detail:
            return "—"
        text = "; ".join(f"{k.replace('_', ' ')}: {_detail_value(v)}" for k, v in detail.items())
        return text if len(text) <= 120 else text[:117] + "…"

    @admin.display(description="Detail")
    def detail_readable(self, obj):
        detail = obj.detail or {}
        if not detail:
            return "—"
        rows = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            ((k.replace("_", " ").capitalize(), _detail_value(v)) for k, v in detail.items()),
        )
        return format_html('<dl class="audit-detail">{}</dl>', rows)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
