"""Login throttling: failed logins counted per username and client IP in the cache.

The password and the second factor (salesmgmt.two_factor) keep separate failure counters but
share one lockout: a username+IP locked by either may not pass either step. A right password
clears only the password counter, so re-entering it never resets the count of wrong codes.

The cache is per-process memory without REDIS_URL and Redis (shared by every worker) with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

FIRST_FACTOR = "password"
SECOND_FACTOR = "otp"
FACTORS = (FIRST_FACTOR, SECOND_FACTOR)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _limits() -> tuple[int, int, int]:
    """(failures allowed, counting window, lockout) — read each call so tests may override."""
    return (
        settings.LOGIN_FAILURE_LIMIT,
        settings.LOGIN_FAILURE_WINDOW_SECONDS,
        settings.LOGIN_LOCKOUT_SECONDS,
    )


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str:
    """The client's address, as the lockout and the audit log key it.

    REMOTE_ADDR, unless it is one of TRUSTED_PROXIES: then the right-most X-Forwarded-For entry
    that is not itself a trusted proxy. Entries further left were written by the client and
    could be forged to dodge the lockout, so they are never used; a malformed entry where the
    client should be falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not _is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if _is_trusted_proxy(hop):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return remote
    # Every hop is a trusted proxy (or there is none): the left-most one, else the peer.
    return str(ipaddress.ip_address(hops[0])) if hops else remote


def _key(kind: str, username: str, ip: str) -> str:
    # Hashed: usernames may hold characters memcached-style keys refuse, and stay out of logs.
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()
    return f"login-{kind}:{digest}"


def _failures_kind(factor: str) -> str:
    # The password counter keeps its original key, so a deploy does not reset live counts.
    return "failures" if factor == FIRST_FACTOR else f"failures-{factor}"


def login_is_locked(*, username: str, ip: str) -> bool:
    return cache.get(_key("lock", username, ip)) is not None


def login_failed(*, username: str, ip: str, factor: str = FIRST_FACTOR) -> bool:
    """Count one failure of ``factor``; returns True when this failure starts a lockout."""
    limit, window, lockout = _limits()
    failures_key = _key(_failures_kind(factor), username, ip)
    cache.add(failures_key, 0, timeout=window)  # the window starts at the first failure
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=window)
        failures = 1
    if failures >= limit:
        cache.set(_key("lock", username, ip), True, timeout=lockout)
        cache.delete(failures_key)
        return True
    return False


def login_succeeded(*, username: str, ip: str, factors: tuple[str, ...] = FACTORS) -> None:
    """Clear the counters of the factors passed (all of them once the person is logged in)."""
    keys = [_key(_failures_kind(factor), username, ip) for factor in factors]
    cache.delete_many([*keys, _key("lock", username, ip)])
