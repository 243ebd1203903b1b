"""The beat schedule run in-process, for the embedded mode (no Redis, so no Celery beat).

Without a broker every task already runs eagerly where it is called, but the periodic jobs
of ``salesmgmt.celery`` (the nightly recompute, the webhook retries, the sweeps that pick up
what a lost message missed) had nothing to start them: a failed webhook delivery waited for
a worker that `make run` does not start without Redis. ``manage.py run_schedule`` (started
by scripts/run.sh in that mode) runs each entry when it is due, as beat would: an interval
entry first runs one interval after the start, then every interval; a failing job is
logged and tried again at its next turn, never retried in a loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Entry:
    name: str
    task: str
    every: float  # seconds
    kwargs: dict = field(default_factory=dict)
    next_at: float = 0.0


def entries(beat_schedule: dict, *, now: float) -> list[Entry]:
    """The schedule's interval entries, each first due one interval from ``now``."""
    result = []
    for name, spec in beat_schedule.items():
        every = spec["schedule"]
        if hasattr(every, "total_seconds"):
            every = every.total_seconds()
        if not isinstance(every, int | float):
            raise TypeError(f"{name}: only interval schedules run in-process, not {every!r}.")
        result.append(Entry(name, spec["task"], float(every), dict(spec.get("kwargs", {}))))
        result[-1].next_at = now + result[-1].every
    return result


def run_due(schedule: Iterable[Entry], *, now: float, run: Callable[[Entry], object]) -> list[str]:
    """Run every entry due at ``now`` (once, however late) and set its next turn."""
    ran = []
    for entry in schedule:
        if entry.next_at > now:
            continue
        entry.next_at = now + entry.every
        try:
            run(entry)
        except Exception:
            logger.exception(
                "Scheduled job %s (%s) failed; next at its next turn.", entry.name, entry.task
            )
        ran.append(entry.name)
    return ran


def registered_tasks() -> dict:
    """Every task of the project's apps (Celery discovers them lazily)."""
    from salesmgmt.celery import app

    app.loader.import_default_modules()
    return app.tasks


def run_task(entry: Entry) -> object:
    """The entry's Celery task, executed here and now."""
    result = registered_tasks()[entry.task].apply(kwargs=entry.kwargs)
    if result.failed():
        raise RuntimeError(f"{entry.task} failed: {result.result!r}")
    return result.result


def loop(schedule: list[Entry], *, tick: float = 5.0, clock=time.monotonic, sleep=time.sleep):
    """Run the schedule until interrupted."""
    while True:
        run_due(schedule, now=clock(), run=run_task)
        sleep(tick)
