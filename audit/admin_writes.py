"""Writes made in the Django admin, audited like the services' writes.

The admin keeps its own log (django_admin_log), which the audit trail does not read; this
mixin records each addition, change and deletion made through a ModelAdmin as an audit
event too: `<model>.admin_add` / `admin_change` / `admin_delete`, with the names of the
fields changed (never their values) and, for a user, the roles held afterwards.
"""

from __future__ import annotations

from audit.services import AuditRow, audit_bulk


def _fields(message) -> list[str]:
    """The field names in the admin's change message (a list of {"changed": {"fields"}})."""
    names: list[str] = []
    for part in message if isinstance(message, list) else []:
        for change in part.values() if isinstance(part, dict) else []:
            if isinstance(change, dict):
                names += [str(f) for f in change.get("fields", [])]
    return names


def _object_id(obj) -> str:
    """The object's id as the trail keeps it: an API token by its short key (its primary
    key is the token's hash, which is not for the trail)."""
    return str(getattr(obj, "token_key", None) or obj.pk)


def _detail(obj, message) -> dict:
    detail = {"fields": _fields(message)}
    groups = getattr(obj, "groups", None)
    if groups is not None and hasattr(groups, "values_list"):
        detail["roles"] = sorted(groups.values_list("name", flat=True))
    return detail


class AdminWriteAuditMixin:
    def _audit(self, request, kind: str, obj, message) -> None:
        audit_bulk(
            action=f"{obj._meta.model_name}.admin_{kind}",
            acting_user=request.user,
            rows=[AuditRow(obj._meta.label_lower, _object_id(obj), None, _detail(obj, message))],
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, "add", obj, message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, "change", obj, message)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)
        entries = super().log_deletions(request, queryset)
        if objects:
            audit_bulk(
                action=f"{objects[0]._meta.model_name}.admin_delete",
                acting_user=request.user,
                rows=[AuditRow(o._meta.label_lower, _object_id(o), None, {}) for o in objects],
            )
        return entries
