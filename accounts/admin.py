"""The admin's user and API-token pages: audited writes (audit.admin_writes), one role for
a lab account, and a token list that shows whose tokens they are, not their digests."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from knox.admin import AuthTokenAdmin as KnoxAuthTokenAdmin
from knox.models import AuthToken

from accounts.roles import Role
from audit.admin_writes import AdminWriteAuditMixin

LAB_ONLY = (
    "A lab account holds no other role: a lab system's token must never reach patient "
    "records. Use a separate account for a person who also works in the clinic."
)
ROLE_NAMES = {r.value for r in Role}


class RoleCheckedUserChangeForm(UserChangeForm):
    def clean_groups(self):
        groups = self.cleaned_data.get("groups")
        roles = {g.name for g in groups or []} & ROLE_NAMES
        if Role.LAB in roles and len(roles) > 1:
            raise forms.ValidationError(LAB_ONLY)
        return groups


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AdminWriteAuditMixin, DjangoUserAdmin):
    form = RoleCheckedUserChangeForm
    list_display = ("username", "first_name", "last_name", "roles", "is_active", "last_login")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, obj) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"


admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(AdminWriteAuditMixin, KnoxAuthTokenAdmin):
    list_display = ("user", "token_key", "created", "expiry")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        admin.ModelAdmin.save_model(self, request, obj, form, change)
        self.message_user(
            request,
            f"Copy this token now; it is shown only once and stored only as a hash: {form.token}",
            messages.WARNING,
        )
        return None
