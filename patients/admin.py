"""Admin pages for the clinical records: read-only, each linking to the page that changes
it through the services."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from audit.admin_reads import AdminReadAuditMixin
from patients.models import ImagingAssessment, Patient, Regimen


class ClinicalRecordAdmin(AdminReadAuditMixin, SimpleHistoryAdmin):
    """Clinical records are read-only here (DESIGN §5): a state, regimen or scan changed in
    the admin would bypass the alert reconcile and the planner. Each record links to the
    patient page, whose forms change it through the services. Reads are audited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def view_on_site(self, obj):
        patient_id = obj.pk if isinstance(obj, Patient) else obj.patient_id
        return reverse("patient_detail", args=[patient_id])

    @admin.display(description="Change it on")
    def change_link(self, obj):
        patient_id = obj.pk if isinstance(obj, Patient) else obj.patient_id
        return format_html(
            '<a href="{}">the patient page</a> (the change re-runs the alert rule and the '
            "draw planner)",
            reverse("patient_detail", args=[patient_id]),
        )


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
class PatientAdmin(ClinicalRecordAdmin):
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
    readonly_fields = ("change_link",)


@admin.register(Regimen)
class RegimenAdmin(ClinicalRecordAdmin):
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
    readonly_fields = ("change_link",)


@admin.register(ImagingAssessment)
class ImagingAssessmentAdmin(ClinicalRecordAdmin):
    list_display = ("id", "patient_id", "performed_on", "modality", "outcome")
    list_filter = ("modality", "outcome")
    search_fields = ("=patient__mrn",)
    raw_id_fields = ("patient", "regimen", "recorded_by")
    show_full_result_count = False
    readonly_fields = ("change_link",)
