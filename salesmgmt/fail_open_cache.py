"""A Redis cache that fails open: while Redis is unreachable, reads miss and writes are dropped.

The cache holds only what may be lost: API throttle counters, login-failure counters, live
import progress, and the markers that keep one delayed message per debounce window
(salesmgmt.task_queue; a miss sends one more).
A Redis restart must not turn every request into a 500, so each operation
that cannot reach Redis is logged (at most once every ``LOG_EVERY_SECONDS`` per process) and
answered as if the key were absent.

Security trade-off, accepted knowingly: while Redis is down, failed logins are not counted and
lockouts are not enforced, and API rate limits are not applied. Both come back by themselves
with Redis (counters start afresh). The alternative, refusing every login during the outage,
would lock everybody out instead of an attacker.
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)
LOG_EVERY_SECONDS = 30.0


def _fail_open(fallback):
    """Run the cache operation; if Redis is unreachable, log and return ``fallback(*args)``."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self.note_outage(method.__name__, exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key, default=None, version=None):
    return default


def _incremented(key, delta=1, version=None):
    # As if the counter had just started: never reaches a limit while Redis is away.
    return delta


class FailOpenRedisCache(RedisCache):
    """Django's RedisCache with every operation failing open (see the module docstring)."""

    _last_logged = 0.0

    def note_outage(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCache._last_logged >= LOG_EVERY_SECONDS:
            FailOpenRedisCache._last_logged = now
            logger.warning(
                "Cache (Redis) unreachable; %s failed open (throttling and login lockout are "
                "not enforced until it is back): %s: %s",
                operation,
                type(exc).__name__,
                exc,
            )

    add = _fail_open(lambda *a, **k: False)(RedisCache.add)
    get = _fail_open(_default)(RedisCache.get)
    set = _fail_open(lambda *a, **k: None)(RedisCache.set)
    touch = _fail_open(lambda *a, **k: False)(RedisCache.touch)
    delete = _fail_open(lambda *a, **k: False)(RedisCache.delete)
    get_many = _fail_open(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _fail_open(lambda *a, **k: False)(RedisCache.has_key)
    incr = _fail_open(_incremented)(RedisCache.incr)
    set_many = _fail_open(lambda *a, **k: [])(RedisCache.set_many)
    delete_many = _fail_open(lambda *a, **k: None)(RedisCache.delete_many)
    clear = _fail_open(lambda *a, **k: False)(RedisCache.clear)
