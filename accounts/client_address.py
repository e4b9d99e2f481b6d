"""The client's address as the trusted proxies saw it (login throttling, audit).

Behind N trusted reverse proxies (settings.TRUSTED_PROXY_COUNT), each proxy appends the
address it received the connection from to X-Forwarded-For, and the last proxy's own address
is REMOTE_ADDR. The client is therefore the N-th entry from the right: anything to its left
was written by the client and is not believed. With N = 0 (no proxy, the default), the
header is ignored altogether. A missing, short or malformed header falls back to
REMOTE_ADDR: the request did not come through the proxies we trust.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's IP address as a string ("" only when the socket has none)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "") or ""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not header:
        return remote
    hops = [hop for hop in header.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    return _valid_ip(hops[-proxies]) or remote
