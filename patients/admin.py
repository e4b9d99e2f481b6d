"""Admin pages for the clinical records. Every save and delete here is audited too."""

from django.contrib import admin
from django.db import transaction
from simple_history.admin import SimpleHistoryAdmin

from audit.admin_reads import AdminReadAuditMixin
from audit.context import audit_channel
from audit.services import audit_record
from patients.models import ImagingAssessment, Patient, Regimen


class AuditedAdmin(AdminReadAuditMixin, SimpleHistoryAdmin):
    """Admin writes leave an audit event in the same transaction (simple-history keeps the
    field-level before/after)."""

    def _patient_id(self, obj):
        return obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)

    def save_model(self, request, obj, form, change):
        with transaction.atomic(), audit_channel("admin"):
            super().save_model(request, obj, form, change)
            audit_record(
                action=f"{obj._meta.model_name}.admin_{'change' if change else 'add'}",
                acting_user=request.user,
                obj=obj,
                patient_id=self._patient_id(obj),
                detail={"fields": sorted(form.changed_data)},
            )

    def delete_model(self, request, obj):
        with transaction.atomic(), audit_channel("admin"):
            audit_record(
                action=f"{obj._meta.model_name}.admin_delete",
                acting_user=request.user,
                obj=obj,
                patient_id=self._patient_id(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class RegimenInline(admin.TabularInline):
    model = Regimen
    extra = 0
    can_delete = False
    fields = (
        "endocrine_agent",
        "cdk46_inhibitor",
        "lhrh_agonist",
        "started_on",
        "ended_on",
        "end_reason",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    list_display = (
        "id",
        "mrn",
        "family_name",
        "given_name",
        "oncologist",
        "surveillance_state",
        "surveillance_start_on",
    )
    list_filter = ("surveillance_state", "oncologist")
    search_fields = ("=mrn", "family_name", "given_name")
    list_select_related = ("oncologist",)
    inlines = [RegimenInline]
    show_full_result_count = False


@admin.register(Regimen)
class RegimenAdmin(AuditedAdmin):
    list_display = (
        "id",
        "patient_id",
        "endocrine_agent",
        "cdk46_inhibitor",
        "started_on",
        "ended_on",
        "end_reason",
    )
    list_filter = ("endocrine_agent", "cdk46_inhibitor", "end_reason")
    search_fields = ("=patient__mrn",)
    raw_id_fields = ("patient", "recorded_by")
    show_full_result_count = False


@admin.register(ImagingAssessment)
class ImagingAssessmentAdmin(AuditedAdmin):
    list_display = ("id", "patient_id", "performed_on", "modality", "outcome")
    list_filter = ("modality", "outcome")
    search_fields = ("=patient__mrn",)
    raw_id_fields = ("patient", "regimen", "recorded_by")
    show_full_result_count = False
