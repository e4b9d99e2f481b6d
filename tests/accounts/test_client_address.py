"""accounts.client_address.client_ip: X-Forwarded-For is believed for exactly the trusted
proxies, never for what the client wrote to the left of them."""

from __future__ import annotations

import ipaddress

from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from accounts.client_address import client_ip

ips = st.ip_addresses().map(str)
junk = st.text(alphabet="abc.:,; \x00\xff", max_size=12)


def _request(remote: str, forwarded: str | None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@given(
    remote=ips,
    forged=st.lists(ips | junk, max_size=4),
    appended=st.lists(ips, max_size=4),
    proxies=st.integers(0, 4),
)
def test_client_is_the_address_the_outermost_trusted_proxy_saw(remote, forged, appended, proxies):
    """The client may write anything (forged); each trusted proxy appends the peer it saw.
    Behind N proxies the last N-1 appended hops are proxies and REMOTE_ADDR the last one."""
    header = ", ".join(forged + appended) if forged or appended else None
    # The hops as the server reads them: forged text may itself hold commas or be blank.
    hops = [h.strip() for h in (header or "").split(",") if h.strip()]
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        got = client_ip(_request(remote, header))
    if proxies == 0 or not hops or len(hops) < proxies:
        assert got == remote
    elif len(appended) >= proxies:
        # The entry the outermost trusted proxy appended: never a forged one.
        assert got == str(ipaddress.ip_address(appended[-proxies]))
    else:
        assert got == remote or got in {str(ipaddress.ip_address(h)) for h in hops if _ip(h)}
    assert _ip(got)


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def test_malformed_entry_falls_back_to_the_socket_address():
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(_request("10.0.0.2", "not-an-ip")) == "10.0.0.2"
        assert client_ip(_request("10.0.0.2", "203.0.113.9\x00")) == "10.0.0.2"
        assert client_ip(_request("10.0.0.2", " 203.0.113.9 ")) == "203.0.113.9"
