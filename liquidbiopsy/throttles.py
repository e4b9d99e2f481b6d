"""Throttling lab reports that fail to match their draw (issue 12 §3).

A lab that sends reports whose accession, MRN or date of birth do not match is slowed down:
after LAB_MATCH_FAILURE_RATE failed matches (the `lab_match_failure` scope of
REST_FRAMEWORK's DEFAULT_THROTTLE_RATES, e.g. "20/hour") its report posts answer 429 until
the window has passed. Failures are counted from their audit rows (report.match_failed), so
the count is shared by every web process and survives a restart; successful posts cost one
indexed count and are never counted.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.roles import Role, has_role
from audit.models import AuditEvent
from liquidbiopsy.services import MATCH_FAILED_ACTION


class LabMatchFailureThrottle(SimpleRateThrottle):
    scope = "lab_match_failure"

    def get_rate(self) -> str | None:
        # Read at each request (not the class attribute bound at import), so the setting
        # is the one in force.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):  # not used: the audit trail is the history
        return None

    def allow_request(self, request, view) -> bool:
        if request.method != "POST" or self.rate is None:
            return True
        user = request.user
        if not (user and user.is_authenticated and has_role(user, Role.LAB)):
            return True
        since, failures = self.recent(user)
        self.failures = failures.count()
        if self.failures < self.num_requests:
            return True
        oldest = failures.order_by("at").values_list("at", flat=True)[
            self.failures - self.num_requests
        ]
        self.retry_after = max(1, int((oldest - since).total_seconds()))
        return False

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)

    def recent(self, user):
        """The window's start and the account's failed matches since then."""
        since = timezone.now() - dt.timedelta(seconds=self.duration)
        return since, AuditEvent.objects.filter(
            action=MATCH_FAILED_ACTION, actor=user, at__gte=since
        )


THROTTLED = (
    "This account sent {count} reports in the last {window} that did not match their draws "
    "(accession or patient identifiers); its reports are accepted again from {until} "
    "(clinic time). Check the accessions and patient identifiers against the request forms; "
    "nothing from this request was stored."
)


class MatchFailureThrottled:
    """For the views that take reports: a refusal by LabMatchFailureThrottle says why, how
    many failures, and from when (clinic time) reports are accepted again."""

    def throttled(self, request, wait):
        throttle = LabMatchFailureThrottle()
        if throttle.rate is not None and not throttle.allow_request(request, self):
            until = timezone.localtime(timezone.now() + dt.timedelta(seconds=wait or 0))
            window = "hour" if throttle.duration == 3600 else f"{throttle.duration} seconds"
            detail = THROTTLED.format(
                count=throttle.failures, window=window, until=until.strftime("%H:%M")
            )
            raise exceptions.Throttled(wait, detail=detail)
        super().throttled(request, wait)


def match_failures_remaining(user) -> int | None:
    """How many more failed matches `user` may make before the throttle refuses its reports
    (None: not throttled). A lab file is checked against it as a whole, so that one file is
    never more guesses at a patient's identifiers than the hourly allowance."""
    throttle = LabMatchFailureThrottle()
    if throttle.rate is None:
        return None
    return max(0, throttle.num_requests - throttle.recent(user)[1].count())
