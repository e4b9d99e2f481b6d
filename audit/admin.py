from django.contrib import admin

from audit.models import AuditEvent


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
        "patient_id",
    )
    list_filter = ("channel", "action", ("at", admin.DateFieldListFilter))
    search_fields = ("=patient_id", "=object_id", "actor_label", "action")
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False  # counting millions of rows on every page is slow
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
