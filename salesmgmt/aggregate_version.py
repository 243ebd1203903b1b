"""A counter that moves whenever a precomputed aggregate that pages cache is rewritten.

The team dashboard caches its rendered figures under this version (``{% cache %}`` with the
version among its keys). Every service that rewrites what the dashboard shows (forecast
rollups, KPI snapshots, inspection flags, attainment figures, compliance summaries, people)
calls ``aggregates_changed()``, so a cached fragment never outlives the rows it was rendered
from. The counter moves twice: at once, and again after the commit, because a page rendered
between the two could have read the rows as they were before the commit; the second move
makes that fragment unreachable too.

The counter lives in the cache: Redis with REDIS_URL, shared by every web and worker process;
without it the process's own memory, which is right for the default single process (tasks
run in it) but not for several web processes or a separate worker without Redis, whose
refreshes then reach the other processes' fragments only at their expiry. Should Redis
lose it, it starts again from a random value, never from a number whose fragments may still
be stored; a bump lost while Redis is down is bounded by the fragments' own expiry
(``FRAGMENT_SECONDS``).
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

KEY = "aggregates:version"
# The longest a cached fragment lives even if no bump reaches the cache (a Redis outage).
FRAGMENT_SECONDS = 10 * 60


def aggregates_version() -> int:
    """The current version (1 cache read; a fresh random start when the cache has none)."""
    version = cache.get(KEY)
    if version is None:
        cache.add(KEY, secrets.randbits(48), timeout=None)
        version = cache.get(KEY)
    # Still none: the cache is unreachable. A value of its own per request renders live.
    return version if version is not None else secrets.randbits(48)


def aggregates_changed() -> None:
    """Call from a write to an aggregate a page caches: now, and once the write commits."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    try:
        cache.incr(KEY)
    except ValueError:  # no counter yet (or evicted): start one
        cache.add(KEY, secrets.randbits(48), timeout=None)
