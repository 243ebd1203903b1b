"""The lease and heartbeat a worker holds on a full run (and on each shard of it).

A worker claims a row with a lease token (``forecasting.locks``) and renews its ``heartbeat_at``
from a thread while it works; a row unfinished whose heartbeat is older than
``FORECASTING_RUN_STALE_SECONDS`` lost its worker and may be claimed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from ..models import RecomputeRun

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the run over (ours looked dead): stop without touching it."""


def stale_after() -> dt.timedelta:
    """How long without a heartbeat before a run counts as abandoned."""
    return dt.timedelta(seconds=getattr(settings, "FORECASTING_RUN_STALE_SECONDS", 60))


class Heartbeat:
    """Renews the run's ``heartbeat_at`` every ``interval`` seconds from a thread of its own.

    A thread, not a call per phase: one phase (the KPIs of a big organisation) can outlast the
    stale threshold, and a live worker must never look dead. The thread has its own database
    connection and closes it when it stops.
    """

    def __init__(self, *, run_id: int, lease: str, interval: float) -> None:
        self.run_id, self.lease, self.interval = run_id, lease, interval
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}")
        self._thread.daemon = True

    def _beat(self) -> None:
        last = time.monotonic()
        try:
            while not self._stop.wait(self.interval):
                try:
                    held = self.renew(timezone.now())
                except DatabaseError as exc:  # the database is restarting: try again next beat
                    logger.warning("Heartbeat of recompute run %s failed: %s", self.run_id, exc)
                    continue
                last = self._note_gap(last)
                # Not held, yet the row is there: finished, or another worker's lease now.
                # (A row this thread cannot see yet, uncommitted, is no reason to stop.)
                if not held and self.exists():
                    self.lost = True
                    return
        finally:
            connections.close_all()  # this thread's connections only

    def _note_gap(self, last: float) -> float:
        """Warn when this beat came late (its thread waited for the interpreter or for the
        database): past half the stale threshold another worker may soon take the row over."""
        now = time.monotonic()
        if now - last > max(2 * self.interval, stale_after().total_seconds() / 2):
            logger.warning(
                "%s renewed %.1f s after the one before (every %.1f s is due; stale after %.0f s)",
                self._thread.name, now - last, self.interval, stale_after().total_seconds(),
            )  # fmt: skip
        return now

    def renew(self, now: dt.datetime) -> bool:
        """Renew the held row's heartbeat; False when it is not ours (or not running) now."""
        return bool(
            RecomputeRun.objects.filter(
                pk=self.run_id, lease=self.lease, status=RecomputeRun.Status.RUNNING
            ).update(heartbeat_at=now)
        )

    def exists(self) -> bool:
        return RecomputeRun.objects.filter(pk=self.run_id).exists()

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"{self._thread.name} lost its lease to another worker.")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
