"""Admin reads of records leave audit events, like the clinicians' pages do.

Mix `AdminReadAuditMixin` in before the ModelAdmin base of any admin that shows patient
records. A change page (GET) records `<model>.admin_view` for the object; a list page records
`<model>.admin_list` for each row shown (one INSERT for the page); a history page records
`<model>.admin_history`. The patient is the object itself for a patient, else its
`patient_id`, so the trail of "everything about patient N" includes admin reads.
"""

from __future__ import annotations

from django.contrib.admin.utils import unquote

from audit.services import AuditRow, audit_bulk, audit_record


def _patient_id(obj) -> int | None:
    if obj.__class__.__name__ == "Patient":
        return obj.pk
    return getattr(obj, "patient_id", None)


def _shown(response):
    if response.status_code != 200:
        return None
    return getattr(response, "context_data", None) or None


class AdminReadAuditMixin:
    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        context = _shown(response)
        obj = context.get("original") if context else None
        if request.method == "GET" and obj is not None:
            audit_record(
                action=f"{obj._meta.model_name}.admin_view",
                acting_user=request.user,
                obj=obj,
                patient_id=_patient_id(obj),
            )
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if response.status_code != 200:
            return response
        # simple-history renders a plain response (no context_data): one lookup by key.
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            audit_record(
                action=f"{obj._meta.model_name}.admin_history",
                acting_user=request.user,
                obj=obj,
                patient_id=_patient_id(obj),
            )
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = _shown(response)
        changelist = context.get("cl") if context else None
        if changelist is not None:
            label = self.model._meta.label_lower
            audit_bulk(
                action=f"{self.model._meta.model_name}.admin_list",
                acting_user=request.user,
                rows=[
                    AuditRow(label, str(obj.pk), _patient_id(obj)) for obj in changelist.result_list
                ],
            )
        return response
