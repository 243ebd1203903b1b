"""Login throttling: failed logins counted per username and client IP in the cache.

The cache is per-process memory without REDIS_URL and Redis (shared by every worker) with it.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _limits() -> tuple[int, int, int]:
    """(failures allowed, counting window, lockout) — read each call so tests may override."""
    return (
        settings.LOGIN_FAILURE_LIMIT,
        settings.LOGIN_FAILURE_WINDOW_SECONDS,
        settings.LOGIN_LOCKOUT_SECONDS,
    )


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, never X-Forwarded-For: a client could forge that to dodge the lockout."""
    return request.META.get("REMOTE_ADDR", "") or ""


def _key(kind: str, username: str, ip: str) -> str:
    # Hashed: usernames may hold characters memcached-style keys refuse, and stay out of logs.
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()
    return f"login-{kind}:{digest}"


def login_is_locked(*, username: str, ip: str) -> bool:
    return cache.get(_key("lock", username, ip)) is not None


def login_failed(*, username: str, ip: str) -> bool:
    """Count one failure; returns True when this failure starts a lockout."""
    limit, window, lockout = _limits()
    failures_key = _key("failures", username, ip)
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


def login_succeeded(*, username: str, ip: str) -> None:
    cache.delete_many([_key("failures", username, ip), _key("lock", username, ip)])
