"""The beat schedule run in-process, for the embedded mode (no Redis, so no Celery beat).

Without a broker every task already runs eagerly where it is called, but the periodic jobs
of ``salesmgmt.celery`` (the nightly recompute, the webhook retries, the sweeps that pick up
what a lost message missed) had nothing to start them: a failed webhook delivery waited for
a worker that `make run` does not start without Redis. ``manage.py run_schedule`` (started
by scripts/run.sh in that mode) runs each entry when it is due, as beat would:

- an interval entry first runs one interval after the start, then every interval (on the
  monotonic clock, so a clock change never bunches the sweeps);
- a crontab entry runs at the wall-clock times it names in the schedule's time zone
  (CELERY_TIMEZONE). Its last run is kept in a state file, as beat keeps it in its schedule
  file: a restart neither pushes a weekly job back nor skips the turn missed while the
  scheduler was down (that turn runs once, at once);

a failing job is logged and tried again at its next turn, never retried in a loop.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from celery.schedules import crontab

logger = logging.getLogger(__name__)

# Long enough for any crontab (29 February comes back within eight years).
SEARCH_DAYS = 8 * 366


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Entry:
    name: str
    task: str
    every: float  # seconds, for an interval entry (0 for a crontab entry)
    kwargs: dict = field(default_factory=dict)
    next_at: float = 0.0  # monotonic clock, interval entries
    cron: crontab | None = None
    zone: dt.tzinfo = dt.UTC
    due_at: dt.datetime | None = None  # wall clock, crontab entries
    last_run_at: dt.datetime | None = None


def _runs_on(cron: crontab, day: dt.date) -> bool:
    """Whether the crontab names ``day`` (celery counts weekdays from Sunday = 0)."""
    return (
        day.month in cron.month_of_year
        and day.day in cron.day_of_month
        and day.isoweekday() % 7 in cron.day_of_week
    )


def next_run_after(cron: crontab, after: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The first time the crontab names, on the wall clock of ``zone``, strictly after ``after``.

    Compared in UTC: two readings of the same zone compare by their wall clock only, which
    would run a job twice in the hour the clocks go back. A time the clocks skip (02:30 when
    they go forward at 02:00) is read with the offset before the change, so it runs an hour
    later on the wall clock, once."""
    after_utc = after.astimezone(dt.UTC)
    first_day = after.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        day = first_day + dt.timedelta(days=offset)
        if not _runs_on(cron, day):
            continue
        for hour in sorted(cron.hour):
            for minute in sorted(cron.minute):
                candidate = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
                if candidate.astimezone(dt.UTC) > after_utc:
                    return candidate
    raise ValueError(f"{cron!r} names no time in the next {SEARCH_DAYS} days.")


def schedule_zone() -> ZoneInfo:
    """The time zone of the crontab entries: Celery's (CELERY_TIMEZONE)."""
    from django.conf import settings

    return ZoneInfo(settings.CELERY_TIMEZONE)


def _entry(
    name: str,
    spec: dict,
    *,
    now: float,
    at: dt.datetime,
    zone: dt.tzinfo,
    last_runs: Mapping[str, dt.datetime],
) -> Entry:
    """One entry of the beat schedule, with its first turn."""
    schedule, kwargs = spec["schedule"], dict(spec.get("kwargs", {}))
    if isinstance(schedule, crontab):
        # Never run: counted from now, as beat does for an entry it has not seen before.
        last = last_runs.get(name)
        due_at = next_run_after(schedule, last or at, zone)
        return Entry(
            name,
            spec["task"],
            0.0,
            kwargs,
            cron=schedule,
            zone=zone,
            due_at=due_at,
            last_run_at=last,
        )
    if hasattr(schedule, "total_seconds"):
        schedule = schedule.total_seconds()
    if not isinstance(schedule, int | float):
        raise TypeError(f"{name}: only interval and crontab schedules run in-process.")
    return Entry(name, spec["task"], float(schedule), kwargs, next_at=now + float(schedule))


def entries(
    beat_schedule: dict,
    *,
    now: float,
    at: dt.datetime | None = None,
    zone: dt.tzinfo | None = None,
    last_runs: Mapping[str, dt.datetime] | None = None,
) -> list[Entry]:
    """The schedule's entries: an interval entry first due one interval from ``now``
    (monotonic); a crontab entry at its next time after its last run (``last_runs``, from
    the state file) or, never run, after ``at`` (the wall clock; default: now)."""
    at = at or wall_clock()
    zone = zone or schedule_zone()
    return [
        _entry(name, spec, now=now, at=at, zone=zone, last_runs=last_runs or {})
        for name, spec in beat_schedule.items()
    ]


def _is_due(entry: Entry, *, now: float, at: dt.datetime) -> bool:
    if entry.due_at is None:
        return entry.next_at <= now
    return entry.due_at <= at


def _set_next_turn(entry: Entry, *, now: float, at: dt.datetime) -> None:
    if entry.cron is None:
        entry.next_at = now + entry.every
    else:
        entry.last_run_at = at
        entry.due_at = next_run_after(entry.cron, at, entry.zone)


def make_due(schedule: Iterable[Entry], *, now: float, at: dt.datetime) -> None:
    """Make every entry due at ``now`` / ``at``, whatever its turn (``run_schedule --now``)."""
    for entry in schedule:
        entry.next_at = min(entry.next_at, now)
        if entry.due_at is not None:
            entry.due_at = min(entry.due_at, at)


def run_due(
    schedule: Iterable[Entry],
    *,
    now: float,
    run: Callable[[Entry], object],
    at: dt.datetime | None = None,
) -> list[str]:
    """Run every entry due at ``now`` (monotonic) or ``at`` (wall clock), once however late,
    and set its next turn."""
    at = at or wall_clock()
    ran = []
    for entry in schedule:
        if not _is_due(entry, now=now, at=at):
            continue
        _set_next_turn(entry, now=now, at=at)
        try:
            run(entry)
        except Exception:
            logger.exception(
                "Scheduled job %s (%s) failed; next at its next turn.", entry.name, entry.task
            )
        ran.append(entry.name)
    return ran


def load_state(path: Path | None) -> dict[str, dt.datetime]:
    """Each crontab entry's last run, as ``save_state`` wrote it ({} without a file)."""
    if path is None or not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text())
        return {name: dt.datetime.fromisoformat(value) for name, value in raw.items()}
    except (ValueError, AttributeError, TypeError):
        logger.warning("Schedule state %s unreadable; crontab jobs counted from now.", path)
        return {}


def save_state(path: Path | None, schedule: Iterable[Entry]) -> None:
    """Write each crontab entry's last run (replacing the file whole, never half-written)."""
    if path is None:
        return
    state = {e.name: e.last_run_at.isoformat() for e in schedule if e.last_run_at is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(state, indent=1, sort_keys=True))
    partial.replace(path)


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


def loop(
    schedule: list[Entry],
    *,
    tick: float = 5.0,
    clock=time.monotonic,
    sleep=time.sleep,
    wall: Callable[[], dt.datetime] = wall_clock,
    state: Path | None = None,
) -> None:
    """Run the schedule until interrupted, keeping the crontab entries' last runs in ``state``."""
    while True:
        ran = run_due(schedule, now=clock(), at=wall(), run=run_task)
        if any(entry.cron is not None for entry in schedule if entry.name in ran):
            save_state(state, schedule)
        sleep(tick)
