"""Idle sessions expire: each request pushes the expiry forward, at most once a minute.

Django's SESSION_SAVE_EVERY_REQUEST would write the session row on every request; this
writes it only when the last refresh is over a minute old, so the idle timeout holds to
within a minute and most pages make no write.
"""

from __future__ import annotations

import time

REFRESH_EVERY_SECONDS = 60
KEY = "_idle_refreshed_at"


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        now = int(time.time())
        if now - session.get(KEY, 0) >= REFRESH_EVERY_SECONDS:
            session[KEY] = now  # marks the session modified: saved with a fresh expiry
        return response
