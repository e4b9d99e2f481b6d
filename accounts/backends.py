"""Login throttling beyond django-axes' own (username + client address) lockout.

django-axes locks a username at one client address after LOGIN_FAILURE_LIMIT failures. That
alone lets one address try a few passwords on every account (password spraying) and lets
many addresses guess one account's password. This backend adds two wider limits, counted
from axes' own failure records within the cool-off period:

- per client address, across usernames (LOGIN_IP_FAILURE_LIMIT): spraying is stopped;
- per username, across addresses (LOGIN_USERNAME_FAILURE_LIMIT): a distributed guess is
  stopped; it is set well above the per-address limit so that one attacker cannot lock a
  named clinician out (their own address hits its limit first).

While a limit holds, the attempt is refused without checking the password and answers as an
axes lockout (429 and the lockout page), and it is not counted again.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.client_address import client_ip


class LoginRateLimited(PermissionDenied):
    """Raised inside authenticate(): Django stops trying backends and reports a failure."""


def _cooloff() -> timedelta:
    hours = settings.AXES_COOLOFF_TIME
    if isinstance(hours, timedelta):
        return hours
    return timedelta(hours=float(hours or 0))


def login_failures(*, ip_address: str, username: str | None) -> tuple[int, int]:
    """(failures from this address, failures on this username) within the cool-off."""
    cutoff = timezone.now() - _cooloff()
    by_ip = Q(ip_address=ip_address)
    by_user = Q(username=username) if username else Q(pk__in=[])
    totals = AccessAttempt.objects.filter(by_ip | by_user, attempt_time__gte=cutoff).aggregate(
        ip=Sum("failures_since_start", filter=by_ip),
        user=Sum("failures_since_start", filter=by_user),
    )
    return totals["ip"] or 0, totals["user"] or 0


class LoginRateLimitBackend:
    """Authenticates nobody; refuses attempts over the per-address or per-username limit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return
        by_ip, by_user = login_failures(ip_address=client_ip(request), username=username)
        if by_ip >= settings.LOGIN_IP_FAILURE_LIMIT or (
            by_user >= settings.LOGIN_USERNAME_FAILURE_LIMIT
        ):
            # AxesMiddleware turns this flag into the lockout answer; with
            # AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off, axes does not count it again.
            request.axes_locked_out = True
            request.axes_credentials = {"username": username}
            raise LoginRateLimited("too many failed log-ins")
        return

    # No get_user(): this backend never logs anyone in, so no session names it (login() and
    # Django's test client pick the first backend that has one).


class RoleModelBackend(ModelBackend):
    """Django's ModelBackend, whose get_user (run for every logged-in request) reads the
    user's roles in the same query: the page's role check and its navigation then cost no
    query of their own (accounts.roles.user_roles uses what is cached on the user)."""

    def get_user(self, user_id):
        from django.contrib.auth import get_user_model
        from django.db import connection

        from accounts.roles import Role

        users = get_user_model()._default_manager.filter(pk=user_id)
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        from django.contrib.postgres.aggregates import ArrayAgg

        user = users.annotate(role_list=ArrayAgg("groups__name")).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        user._role_names = frozenset(name for name in user.role_list if name in Role.values)
        return user
