"""Writes on accounts: creating users with a role and issuing API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from knox.models import AuthToken

from accounts.client_address import client_ip
from accounts.roles import Role
from audit.services import audit_record

USER_EXISTS = "A user named '{username}' already exists."
UNKNOWN_ROLE = "Unknown role '{role}'; choose one of: {choices}."
USER_NOT_FOUND = "No user named '{username}'."
USER_INACTIVE = "User '{username}' is inactive."


def roles_ensure_groups() -> None:
    """Create the role groups if they are missing (idempotent)."""
    for role in Role.values:
        Group.objects.get_or_create(name=role)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    acting_user=None,
):
    """Create a user holding one role. Admins also get Django admin access."""
    User = get_user_model()
    if role not in Role.values:
        raise ValidationError(
            {"role": UNKNOWN_ROLE.format(role=role, choices=", ".join(Role.values))}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": USER_EXISTS.format(username=username)})
    roles_ensure_groups()
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    user.full_clean(exclude=["password"])
    try:
        # Django's validators (settings.AUTH_PASSWORD_VALIDATORS: length, common, numeric,
        # similar to the user's names), as the admin's password forms apply them.
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    audit_record(
        action="user.create",
        acting_user=acting_user,
        obj=user,
        detail={"role": role},
    )
    return user


@transaction.atomic
def api_token_issue(*, username: str, acting_user=None) -> str:
    """Issue a new API token for `username`; only its digest is stored."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": USER_NOT_FOUND.format(username=username)})
    if not user.is_active:
        raise ValidationError({"username": USER_INACTIVE.format(username=username)})
    instance, token = AuthToken.objects.create(user=user, expiry=None)
    audit_record(
        action="api_token.issue",
        acting_user=acting_user,
        obj=user,
        detail={"token_key": instance.token_key[:8]},
    )
    return token


# --- Authentication events (called from accounts.signals and accounts.middleware) ----------
# Identifiers only: the username typed and the client address, never the password.


def login_record(*, request, user) -> None:
    audit_record(
        action="auth.login",
        acting_user=user,
        obj=user,
        detail={"ip": client_ip(request) if request is not None else ""},
    )


def logout_record(*, request, user) -> None:
    if user is None or not user.is_authenticated:
        return
    audit_record(
        action="auth.logout",
        acting_user=user,
        obj=user,
        detail={"ip": client_ip(request) if request is not None else ""},
    )


def _attempted_username(credentials: dict | None) -> str:
    username = str((credentials or {}).get("username") or "")
    return username[:150]


def login_failed_record(*, request, credentials: dict | None) -> None:
    audit_record(
        action="auth.login_failed",
        system="auth",
        detail={
            "username": _attempted_username(credentials),
            "ip": client_ip(request) if request is not None else "",
        },
    )


def lockout_record(*, request, username: str | None) -> None:
    """An attempt refused by a lockout or a rate limit (django-axes or accounts.backends)."""
    audit_record(
        action="auth.lockout",
        system="auth",
        detail={
            "username": _attempted_username({"username": username}),
            "ip": client_ip(request) if request is not None else "",
        },
    )


def session_expired_record(*, user, reason: str) -> None:
    if user is None or not user.is_authenticated:
        return
    audit_record(
        action="auth.session_expired", acting_user=user, obj=user, detail={"reason": reason}
    )
