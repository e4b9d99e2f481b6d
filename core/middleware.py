"""Request-level safety nets, each small: see the class docstrings.

Order in settings.MIDDLEWARE: DatabaseUnavailableMiddleware outermost (after Django's
SecurityMiddleware), then RequestSanityMiddleware (NUL in headers and queries); NoStoreMiddleware after authentication.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from core.availability import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, is_database_unavailable

BAD_REQUEST_NUL = "Bad request: a header contains a NUL character."
_FLAG = "_core_database_unavailable"


def _error(request, message: str, status: int) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"message": message, "extra": {}}, status=status)
    else:
        # Plain on purpose: a template would run context processors that query the database.
        response = HttpResponse(
            f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{message}</p>",
            status=status,
            content_type="text/html; charset=utf-8",
        )
    response["Cache-Control"] = "no-store, private"
    return response


def database_unavailable_response(request) -> HttpResponse:
    response = _error(request, DATABASE_UNAVAILABLE, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def flag_database_unavailable(sender, request=None, **kwargs) -> None:
    """got_request_exception receiver: Django is turning an exception into a 500; remember
    whether it was the database being unreachable (raised in a middleware, say loading the
    session, where no process_exception hook sees it)."""
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _FLAG, True)


class DatabaseUnavailableMiddleware:
    """PostgreSQL down or unreachable: 503 with Retry-After, for pages and the API alike.

    A view's exception comes to process_exception; one raised by an inner middleware has
    already become a 500 when it reaches here, flagged by the receiver above, and is replaced.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError):
            # The 500 handler itself needed the database (a page's context processors).
            return database_unavailable_response(request)
        if response.status_code == 500 and getattr(request, _FLAG, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if is_database_unavailable(exception):
            return database_unavailable_response(request)
        return None


class RequestSanityMiddleware:
    """A NUL in a header value answers 400 before anything reads it.

    No legitimate client sends one, and PostgreSQL refuses NUL in text, so a NUL that reached
    a query (a token lookup, axes' record of the User-Agent) became a 500. In the query
    string a NUL is dropped instead (a search for "a<NUL>b" is a search for "ab", as the
    patient search already did), so no filter of any endpoint can pass one to PostgreSQL.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            # Dropped before request.GET is built: every filter and search sees text that
            # PostgreSQL accepts (a NUL reaching a query was a 500).
            request.META["QUERY_STRING"] = query.replace("%00", "").replace("\x00", "")
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
                return _error(request, BAD_REQUEST_NUL, 400)
        return self.get_response(request)


class NoStoreMiddleware:
    """Answers to logged-in users and to token-authenticated calls carry PHI: no cache (the
    browser's, a proxy's) may keep them. `private` for caches that ignore no-store. A view
    that marks its answer `public` (a static asset with no PHI) keeps its own header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "public" in response.get("Cache-Control", ""):
            return response  # declared shareable by its view (the versioned plotly.js bundle)
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        if authenticated or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = "no-store, private"
        return response
