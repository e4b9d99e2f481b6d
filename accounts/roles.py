"""Roles are Django groups; access checks live here and nowhere else.

A user's roles are read once per request and cached on the user object, so role checks
add at most one query to any page or endpoint.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    NURSE = "nurse", "Nurse"
    ONCOLOGIST = "oncologist", "Oncologist"
    LAB = "lab", "Lab"
    ADMIN = "admin", "Admin"


CLINIC_ROLES = frozenset({Role.NURSE, Role.ONCOLOGIST, Role.ADMIN})


def user_roles(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[str]:
    """The role names of `user` (empty for anonymous or inactive users)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(n for n in names if n in Role.values)
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def primary_role(user) -> str | None:
    """The role that picks a user's home page (admin wins, then oncologist, nurse, lab)."""
    roles = user_roles(user)
    for role in (Role.ADMIN, Role.ONCOLOGIST, Role.NURSE, Role.LAB):
        if role in roles:
            return role
    return None


def role_required(*roles: str) -> Callable:
    """Page decorator: anonymous users go to the login page; other roles get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)
        return wrapper

    return decorator


class HasRole(BasePermission):
    """DRF permission: the user must hold one of the view's `allowed_roles`.

    A view may narrow writes with `write_roles` (e.g. clinic roles may read a record but
    only nurses record a collection).
    """

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        allowed = getattr(view, "allowed_roles", None)
        if allowed is None:
            return False  # a view that forgot to declare its roles is closed, not open
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            allowed = getattr(view, "write_roles", allowed)
        return has_role(request.user, *allowed)
