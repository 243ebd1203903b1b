"""The client address of the lockout and audit log: X-Forwarded-For only via trusted proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from salesmgmt import security
from salesmgmt.security import client_ip


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/login/", **extra)


@pytest.fixture(autouse=True)
def _proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]


def test_untrusted_peer_ignores_forwarded_header():
    request = _request("203.0.113.9", "198.51.100.1")

    assert client_ip(request) == "203.0.113.9"


def test_no_trusted_proxies_configured_ignores_forwarded_header(settings):
    settings.TRUSTED_PROXIES = []

    assert client_ip(_request("10.1.2.3", "198.51.100.1")) == "10.1.2.3"


def test_trusted_proxy_uses_the_forwarded_client():
    assert client_ip(_request("10.1.2.3", "198.51.100.1")) == "198.51.100.1"


def test_forged_left_entries_are_ignored():
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real peer.
    request = _request("10.1.2.3", "1.2.3.4, 198.51.100.1")

    assert client_ip(request) == "198.51.100.1"


def test_chain_of_trusted_proxies_is_skipped_from_the_right():
    request = _request("10.1.2.3", "1.2.3.4, 198.51.100.1, 192.0.2.7, 10.9.9.9")

    assert client_ip(request) == "198.51.100.1"


def test_ipv6_proxy_and_client():
    request = _request("2001:db8::1", "2001:DB8:ffff::1, 2001:db8::2")

    # 2001:db8:ffff::1 is inside the trusted /32 too: the chain is all proxies.
    assert client_ip(request) == "2001:db8:ffff::1"
    assert client_ip(_request("2001:db8::1", "2a00:1450::5")) == "2a00:1450::5"


@pytest.mark.parametrize("forwarded", ["", "   ", "not-an-ip", "1.2.3.4, garbage"])
def test_missing_or_malformed_forwarded_falls_back_to_peer(forwarded):
    assert client_ip(_request("10.1.2.3", forwarded)) == "10.1.2.3"


def test_lockout_keys_on_the_forwarded_client(client, rep_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    attacker = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.77"}
    other = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.78"}
    for _ in range(2):
        client.post("/login/", {"username": "rep_a", "password": "wrong"}, **attacker)

    locked = client.post("/login/", {"username": "rep_a", "password": "pw"}, **attacker)
    # Behind the same proxy, another client is not locked out.
    allowed = client.post("/login/", {"username": "rep_a", "password": "pw"}, **other)

    assert locked.status_code == 429
    assert allowed.status_code == 302
    for ip in ("198.51.100.77", "198.51.100.78"):
        security.login_succeeded(username="rep_a", ip=ip)
