"""Session lifetime: an idle timeout and an absolute one, for logged-in browser sessions only.

Idle: each request pushes the expiry forward, at most once a minute. Django's
SESSION_SAVE_EVERY_REQUEST would write the session row on every request; this writes it only
when the last refresh is over a minute old, so the idle timeout holds to within a minute and
most pages make no write.

Absolute: a session ends SESSION_ABSOLUTE_TIMEOUT_HOURS after its log-in, however active
(the log-in time is stamped by accounts.signals). A session without the stamp is ended too.

Only sessions that carry a log-in are touched: an API call authenticated by token sets
`request.user` too (DRF does), but it must create no session row and set no cookie.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser

from accounts.services import session_expired_record

REFRESH_EVERY_SECONDS = 60
KEY = "_idle_refreshed_at"
LOGIN_AT_KEY = "_login_at"


def _session_logged_in(request) -> bool:
    session = getattr(request, "session", None)
    return session is not None and SESSION_KEY in session


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _session_logged_in(request):
            login_at = request.session.get(LOGIN_AT_KEY, 0)
            if time.time() - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600:
                user = request.user
                authenticated = user.is_authenticated  # loads the user before the flush
                request.session.flush()
                request.user = AnonymousUser()
                if authenticated:
                    session_expired_record(user=user, reason="absolute")
        response = self.get_response(request)
        if not _session_logged_in(request):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        now = int(time.time())
        if now - request.session.get(KEY, 0) >= REFRESH_EVERY_SECONDS:
            request.session[KEY] = now  # marks the session modified: saved with a fresh expiry
        return response
