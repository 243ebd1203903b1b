"""Enqueueing Celery tasks from requests without letting a broker outage fail the request,
and the one retry policy every task of the project runs with (``RETRY_POLICY``).

Every task sent from a request has its own durable state in the database (a pending
``ImportJob``, a pending ``WebhookDelivery``, a ``StaleMark`` or a ``RecomputeRun``
row) and a sweep on the beat schedule that re-enqueues what was never picked up. So when Redis
is down the right move is to log, return, and let the sweep send it once Redis is back:
nothing is lost, and the person's write (already committed) stands.

The wait is bounded by the Celery settings in ``salesmgmt.settings.base``: a short broker
connect/socket timeout and a publish retry policy of two quick retries.
"""

from __future__ import annotations

import logging
import smtplib
import sys
import uuid
from typing import Any

from celery import Task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)

# How every task meets a database hiccup (a refused, dropped or closed connection): retried
# with jittered exponential backoff up to ten minutes apart, at most eight times (then it is
# recorded as a FailedTask, salesmgmt.task_failures). A message is acknowledged only once its
# task finished, and a worker killed mid-task hands it back: every task is safe to run twice.
# Spread into ``@shared_task(**RETRY_POLICY)``; a task may override one key (its own bound).
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}

# Tasks that hand mail to a server (notifications.tasks.send_email): a refused, dropped or
# timed-out SMTP connection is retried like a database hiccup (the send record makes a
# retry safe: salesmgmt never sends the same mail twice).
MAIL_RETRY_POLICY: dict[str, Any] = {
    **RETRY_POLICY,
    "autoretry_for": (*RETRY_POLICY["autoretry_for"], smtplib.SMTPException, OSError),
}

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    BROKER_ERRORS: tuple[type[BaseException], ...] = (
        KombuOperationalError,
        RedisConnectionError,
        RedisTimeoutError,
        ConnectionError,  # the builtin: refused / reset sockets that escape unwrapped
        TimeoutError,
    )
except ImportError:  # pragma: no cover - redis is a dependency
    BROKER_ERRORS = (KombuOperationalError, ConnectionError, TimeoutError)


def _send(task: Task, args: tuple | list, kwargs: dict | None, options: dict) -> Any:
    try:
        if options or isinstance(task, EnqueueTolerantTask):
            return task.apply_async(args=args, kwargs=kwargs, **options)
        # Plain sends go through ``delay`` (the same call), the entry point callers and
        # their test doubles know.
        return task.delay(*args, **(kwargs or {}))
    except BROKER_ERRORS as exc:
        logger.warning(
            "Broker unreachable, %s(%s) left to its sweep: %s: %s",
            task.name,
            ", ".join(map(repr, [*args, *(kwargs or {}).values()])),
            type(exc).__name__,
            exc,
        )
        return None


def _already_scheduled(task: Task, args: tuple | list, kwargs: dict | None, options: dict) -> bool:
    """True when the same delayed send is already waiting in the broker, so this one is moot.

    Debounced tasks (a countdown, then claim everything pending) need one message per window,
    not one per write: a worker holds each delayed message unacknowledged until it is due,
    and a burst of writes used to leave hundreds of them in flight, which made every broker
    reconnect restore them all (and tripped a kombu bug on the way). The marker lives exactly
    as long as the countdown, so a write that finds it is committed before the waiting task
    runs and is claimed by it. Eager mode (no broker) runs every send: there is no window.
    """
    countdown = options.get("countdown")
    if not countdown or task.app.conf.task_always_eager:
        return False
    from django.core.cache import cache

    key = "enqueue-once:" + "|".join(
        [task.name, str(options.get("queue") or ""), repr(list(args)), repr(kwargs or {})]
    )
    # add() is atomic in Redis. With Redis down the fail-open cache answers False, so the send
    # is skipped: it would have failed as well, and the sweep covers it either way.
    return not cache.add(key, 1, timeout=max(1, int(countdown)))


def enqueue(task: Task, *, args: tuple | list = (), kwargs: dict | None = None, **options) -> bool:
    """Send ``task``; True if the broker took it, False (logged) if it was unreachable.

    Only for tasks whose work is also recorded in the database and swept: a False here means
    "later, by the sweep", never "lost". A delayed send (``countdown``) identical to one
    still waiting is skipped (True): the waiting task claims this caller's work too.
    """
    if _already_scheduled(task, args, kwargs, options):
        return True
    return _send(task, args, kwargs, options) is not None


class EnqueueTolerantTask(Task):
    """A task whose ``delay()`` (what views and admin actions call) survives a broker outage.

    It returns the task's result handle, or None (logged) when the broker was unreachable.
    ``apply_async`` is left as it is, so retries scheduled by a worker still raise when the
    broker is down. Use it only for tasks a beat sweep re-runs from the database.
    """

    def delay(self, *args: Any, **kwargs: Any) -> Any:
        return _send(self, args, kwargs, {})


def solo_worker_argv(queue: str) -> list[str]:
    """The command of one single-process Celery worker on ``queue`` alone, logging each task:
    what the real-worker tests and the shared-recompute benchmark start. Without gossip,
    mingle and heartbeats it is ready in about a second and talks to no other worker."""
    return [
        sys.executable, "-m", "celery", "-A", "salesmgmt", "worker", "--pool=solo",
        "--concurrency=1", "-Q", queue, "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
