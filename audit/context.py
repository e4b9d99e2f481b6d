"""Which channel the current code runs in (web page, API, admin, task, command line).

Set once by middleware, task or command; read by `audit_record` so services need not pass it.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

_channel: contextvars.ContextVar[str] = contextvars.ContextVar("audit_channel", default="task")


def current_channel() -> str:
    return _channel.get()


@contextmanager
def audit_channel(channel: str):
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


class AuditChannelMiddleware:
    """Tags every request's audit events with web, api or admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        channel = (
            "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        )
        with audit_channel(channel):
            return self.get_response(request)
