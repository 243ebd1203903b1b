"""Reads of pages and API GETs from the PostgreSQL streaming replica; all else from the primary.

With DATABASE_REPLICA_URL set (settings: the "replica" alias), ReplicaReadsMiddleware
(salesmgmt.middleware) marks a request replica-eligible when it is a GET or HEAD, outside
DATABASE_REPLICA_PRIMARY_PATHS, its person wrote nothing in the last
DATABASE_REPLICA_STICKY_SECONDS (a signed cookie: read-your-writes) and the replica is
reachable and at most DATABASE_REPLICA_MAX_LAG_SECONDS behind. Only inside such a request
does the router send reads to the replica, and even there not:

- writes, ``select_for_update`` and ``get_or_create`` (Django routes them as writes),
- reads inside an atomic block (a service's transaction reads what it writes),
- reads after the request wrote anything (the rest of the request sees it),
- reads of a Celery task, even one run eagerly inside the request.

Celery workers, management commands and migrations never run in such a request: primary.
Without the alias the router answers None everywhere, as if it were not installed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass

from celery import current_task
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.models import Model

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = DEFAULT_DB_ALIAS


@dataclass
class RequestReads:
    """Where this request reads; ``wrote`` once it sent anything to the primary."""

    alias: str
    wrote: bool = False


# Set by the middleware for the span of one replica-eligible request; None everywhere else.
_request_reads: ContextVar[RequestReads | None] = ContextVar(
    "salesmgmt_request_reads", default=None
)


def replica_configured() -> bool:
    """Whether DATABASE_REPLICA_URL gave the "replica" alias."""
    return REPLICA in settings.DATABASES


@contextmanager
def reads_from_replica() -> Iterator[RequestReads]:
    """The span of a replica-eligible request (the middleware's; tests use it directly)."""
    reads = RequestReads(alias=REPLICA)
    token = _request_reads.set(reads)
    try:
        yield reads
    finally:
        _request_reads.reset(token)


def current_reads() -> RequestReads | None:
    return _request_reads.get()


def in_transaction(alias: str = PRIMARY) -> bool:
    """Whether code runs inside an atomic block on ``alias``.

    The atomic blocks a test case wraps each test in are not the application's (Django's
    own on_commit handling makes the same distinction), so unit tests see the routing the
    application gets.
    """
    return any(
        not getattr(block, "_from_testcase", False) for block in connections[alias].atomic_blocks
    )


class PrimaryReplicaRouter:
    """The one routing policy; the module docstring says when a read goes to the replica."""

    def db_for_read(self, model: type[Model], **hints: object) -> str | None:
        if not replica_configured():
            return None
        reads = _request_reads.get()
        if reads is None or reads.wrote or in_transaction() or current_task:
            return PRIMARY
        return reads.alias

    def db_for_write(self, model: type[Model], **hints: object) -> str | None:
        if not replica_configured():
            return None
        reads = _request_reads.get()
        if reads is not None:
            reads.wrote = True
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: object) -> bool | None:
        # Both aliases hold the same rows: an object read from the replica may be related to
        # (and saved with) one from the primary.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        # A standby is read-only; it receives the schema from the primary's WAL.
        return False if db == REPLICA else None


# --- is the replica fit to read from? -------------------------------------------------------

# Caught up: every WAL record received is replayed and the WAL receiver streams (a role
# without pg_read_all_stats sees the receiver's row with a NULL status: taken as streaming).
# Otherwise the age of the last replayed commit; an idle primary sends no commits, which is
# why "caught up" is checked first. Not a standby at all (a test's mirror): no lag.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
        AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status IS NULL OR status = 'streaming')
        THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 'Infinity')
END
"""
CONNECTION_ERRORS = (OperationalError, InterfaceError)


@dataclass
class ReplicaHealth:
    """The last lag check of this process: when, the lag (None: unreachable), the verdict."""

    checked_at: float = -math.inf
    lag_seconds: float | None = None
    usable: bool = False


# A memo per process, not a cache service: at most one lag query per
# DATABASE_REPLICA_CHECK_SECONDS per process, shared by its threads.
_health = ReplicaHealth()
_health_lock = threading.Lock()


def replica_lag_seconds() -> float:
    """How far the replica is behind the primary, in seconds; raises when it is unreachable."""
    replica = connections[REPLICA]
    # Only PostgreSQL has a standby to lag; another backend's alias is a copy (tests): is it
    # reachable?
    sql = LAG_SQL if replica.vendor == "postgresql" else "SELECT 0"
    with replica.cursor() as cursor:
        cursor.execute(sql)
        return float(cursor.fetchone()[0])


def replica_usable(*, refresh: bool = False) -> bool:
    """Whether reads may go to the replica now: reachable and within the lag limit."""
    global _health
    with _health_lock:
        now = time.monotonic()
        if not refresh and now - _health.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
            return _health.usable
        limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        previous = _health
        try:
            lag: float | None = replica_lag_seconds()
        except CONNECTION_ERRORS as error:
            lag = None
            close_replica_connection()
            if previous.lag_seconds is not None or previous.checked_at == -math.inf:
                logger.warning("Read replica unreachable, reading from the primary: %s", error)
        _health = ReplicaHealth(checked_at=now, lag_seconds=lag, usable=lag is not None)
        if lag is not None and lag > limit:
            _health.usable = False
            if previous.usable or previous.lag_seconds is None:
                logger.warning(
                    "Read replica %.1f s behind (limit %s s), reading from the primary",
                    lag,
                    limit,
                )
        elif lag is not None and not previous.usable and previous.checked_at != -math.inf:
            logger.info("Read replica back (%.1f s behind), reading from it again", lag)
        return _health.usable


def replica_health() -> ReplicaHealth:
    """The last check's result (for tests and diagnostics)."""
    return _health


def forget_replica_health() -> None:
    """The next request checks again (tests; a replica that just came back)."""
    global _health
    with _health_lock:
        _health = ReplicaHealth()


def close_replica_connection() -> None:
    """Drop this thread's replica connection after a failure; the next use reconnects."""
    with suppress(*CONNECTION_ERRORS):
        connections[REPLICA].close()
