"""Rate limits per token (or session user) and per anonymous IP; 429 with Retry-After.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (env ``API_THROTTLE_RATE``,
``API_ANON_THROTTLE_RATE``), read per request so tests can override them. Counters live in the
default cache: Redis when ``REDIS_URL`` is set, so every gunicorn worker shares them.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from salesmgmt.models import ApiToken


class _RateFromSettings(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        if self.scope is None:
            return None
        # The DRF stubs type the rates as numbers; they are "N/period" strings, as get_rate says.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[return-value]


class TokenRateThrottle(_RateFromSettings):
    """One budget per token; session users get one budget per person."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(_RateFromSettings):
    """Unauthenticated calls (schema, docs, failed logins) are limited per client IP."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
