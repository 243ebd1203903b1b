"""Weekly and nightly jobs pinned to the wall clock: crontab turns in beat and in-process,
across a restart, a missed turn and the clocks changing."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.core.management import call_command

from salesmgmt import celery as celery_module
from salesmgmt import schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKLY = {"lock": {"task": "x.lock", "schedule": crontab(minute=0, hour=5, day_of_week="mon")}}


def at(zone, *args, fold=0):
    return dt.datetime(*args, tzinfo=zone).replace(fold=fold)


def elapsed(start, end):
    """Real time between two readings (Python subtracts same-zone readings by wall clock)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def test_the_next_weekly_turn_is_the_configured_weekday_and_hour():
    cron = crontab(minute=0, hour=5, day_of_week="mon")

    # 2026-12-06 is a Sunday; Monday 05:00 comes next, then a week later
    assert schedule.next_run_after(cron, at(BERLIN, 2026, 12, 6, 23), BERLIN) == at(
        BERLIN, 2026, 12, 7, 5
    )
    assert schedule.next_run_after(cron, at(BERLIN, 2026, 12, 7, 5), BERLIN) == at(
        BERLIN, 2026, 12, 14, 5
    )
    # read in the schedule's zone, whatever zone the instant comes in: 04:30 UTC on Monday is
    # 05:30 in Berlin, past the turn
    assert schedule.next_run_after(
        cron, dt.datetime(2026, 12, 7, 4, 30, tzinfo=dt.UTC), BERLIN
    ) == at(BERLIN, 2026, 12, 14, 5)


@pytest.mark.parametrize(
    "last_run",
    [
        dt.datetime(2026, 11, 23, 4, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 4, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
    ],
)
def test_in_step_with_celerys_crontab_on_ordinary_weeks(last_run):
    """Beat (celery's own crontab arithmetic) and run_schedule agree on the next turn."""
    cron = crontab(minute=0, hour=5, day_of_week="mon", nowfun=lambda: last_run)
    ours = schedule.next_run_after(cron, last_run, dt.UTC)

    celery_due_in = cron.remaining_estimate(last_run)

    assert ours == last_run + celery_due_in


def test_a_restart_does_not_push_the_weekly_job_back(tmp_path):
    state = tmp_path / "run-schedule.json"
    # Monday 05:00: the lock ran, and the state file says so
    [lock] = schedule.entries(WEEKLY, now=0.0, at=at(BERLIN, 2026, 11, 30, 4, 59), zone=BERLIN)
    assert schedule.run_due([lock], now=0.0, at=at(BERLIN, 2026, 11, 30, 5), run=print) == ["lock"]
    schedule.save_state(state, [lock])

    # restarted on Sunday: the next lock is still tomorrow 05:00, not a week after the restart
    [restarted] = schedule.entries(
        WEEKLY, now=0.0, at=at(BERLIN, 2026, 12, 6, 18), zone=BERLIN,
        last_runs=schedule.load_state(state),
    )  # fmt: skip

    assert restarted.due_at == at(BERLIN, 2026, 12, 7, 5)
    assert (
        schedule.run_due([restarted], now=0.0, at=at(BERLIN, 2026, 12, 7, 4, 59), run=print) == []
    )
    assert schedule.run_due([restarted], now=0.0, at=at(BERLIN, 2026, 12, 7, 5), run=print) == [
        "lock"
    ]


def test_a_turn_missed_while_down_runs_once_on_restart(tmp_path):
    state = tmp_path / "run-schedule.json"
    state.write_text(json.dumps({"lock": "2026-11-16T05:00:00+01:00"}))
    calls = []

    # down for two Mondays; back on Tuesday morning
    [lock] = schedule.entries(
        WEEKLY, now=0.0, at=at(BERLIN, 2026, 12, 1, 9), zone=BERLIN,
        last_runs=schedule.load_state(state),
    )  # fmt: skip
    ran = schedule.run_due([lock], now=0.0, at=at(BERLIN, 2026, 12, 1, 9), run=calls.append)
    again = schedule.run_due([lock], now=0.0, at=at(BERLIN, 2026, 12, 1, 9, 5), run=calls.append)

    assert (ran, again, len(calls)) == (["lock"], [], 1)
    assert lock.due_at == at(BERLIN, 2026, 12, 7, 5)


def test_a_new_entry_or_an_unreadable_state_counts_from_now(tmp_path):
    state = tmp_path / "run-schedule.json"
    state.write_text("{not json")

    [lock] = schedule.entries(
        WEEKLY, now=0.0, at=at(BERLIN, 2026, 12, 7, 6), zone=BERLIN,
        last_runs=schedule.load_state(state),
    )  # fmt: skip

    assert lock.due_at == at(BERLIN, 2026, 12, 14, 5)
    assert schedule.load_state(tmp_path / "missing.json") == {}


def test_the_weekly_turn_keeps_its_hour_across_the_clock_change():
    cron = crontab(minute=0, hour=5, day_of_week="mon")

    # New York springs forward on Sunday 2026-03-08: a week later is 167 hours, still 05:00
    before = at(NEW_YORK, 2026, 3, 2, 5)
    after = schedule.next_run_after(cron, before, NEW_YORK)

    assert after == at(NEW_YORK, 2026, 3, 9, 5)
    assert elapsed(before, after) == dt.timedelta(hours=167)
    # and falls back on Sunday 2026-11-01: 169 hours
    before = at(NEW_YORK, 2026, 10, 26, 5)
    after = schedule.next_run_after(cron, before, NEW_YORK)
    assert elapsed(before, after) == dt.timedelta(hours=169)


def test_a_nightly_job_in_the_skipped_hour_runs_once_an_hour_later():
    cron = crontab(minute=30, hour=2)
    # 02:30 does not exist on 2026-03-08 in New York: read as 03:30 daylight time
    turn = schedule.next_run_after(cron, at(NEW_YORK, 2026, 3, 7, 12), NEW_YORK)

    assert turn.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 7, 30, tzinfo=dt.UTC)
    assert schedule.next_run_after(cron, turn, NEW_YORK) == at(NEW_YORK, 2026, 3, 9, 2, 30)


def test_a_job_in_the_repeated_hour_runs_once():
    cron = crontab(minute=30, hour=1)
    # 01:30 happens twice on 2026-11-01 in New York (05:30 and 06:30 UTC): one run
    [job] = schedule.entries(
        {"j": {"task": "x.j", "schedule": cron}},
        now=0.0, at=at(NEW_YORK, 2026, 10, 31, 12), zone=NEW_YORK,
    )  # fmt: skip
    runs = []
    for minutes in range(0, 5 * 60, 5):  # every five minutes from 00:00 EDT to 03:55 EST
        instant = dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
        runs += schedule.run_due([job], now=0.0, at=instant, run=print)

    assert runs == ["j"]
    assert job.last_run_at == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)


def test_the_weekday_and_hours_come_from_the_settings(settings):
    settings.WEEKLY_JOBS_WEEKDAY = "fri"
    settings.WEEKLY_JOBS_HOUR = 18
    settings.NIGHTLY_JOBS_HOUR = 23

    beat = celery_module.beat_schedule(settings)

    lock = beat["forecasting-lock-calls-weekly"]["schedule"]
    snapshot = beat["forecasting-snapshot-weekly"]["schedule"]
    recompute = beat["forecasting-recompute-all-nightly"]["schedule"]
    # 2026-12-07 is a Monday
    monday = at(BERLIN, 2026, 12, 7, 12)
    assert schedule.next_run_after(lock, monday, BERLIN) == at(BERLIN, 2026, 12, 11, 18)
    assert schedule.next_run_after(snapshot, monday, BERLIN) == at(BERLIN, 2026, 12, 11, 18)
    assert schedule.next_run_after(recompute, monday, BERLIN) == at(BERLIN, 2026, 12, 7, 23, 15)
    # the sweeps stay intervals
    assert beat["refresh-sweep"]["schedule"] == 60


def test_the_weekly_and_nightly_jobs_are_crontabs_and_the_sweeps_intervals():
    beat = celery_module.app.conf.beat_schedule

    kinds = {name: isinstance(spec["schedule"], crontab) for name, spec in beat.items()}

    assert {name for name, is_cron in kinds.items() if is_cron} >= {
        "forecasting-snapshot-weekly",
        "forecasting-lock-calls-weekly",
        "record-territory-balance-weekly",
        "forecasting-recompute-all-nightly",
        "mark-attainment-stale-nightly",
    }
    assert not kinds["refresh-sweep"]
    assert not kinds["enqueue-overdue-webhooks"]


def test_the_digest_runs_hourly_once_the_notifications_app_is_installed():
    without = SimpleNamespace(
        NIGHTLY_JOBS_HOUR=2, WEEKLY_JOBS_WEEKDAY="mon", WEEKLY_JOBS_HOUR=5,
        INSTALLED_APPS=["salesmgmt", "forecasting.apps.ForecastingConfig"],
    )  # fmt: skip
    with_app = SimpleNamespace(
        **{**vars(without), "INSTALLED_APPS": ["notifications.apps.NotificationsConfig"]}
    )

    assert "notifications-send-due-digests-hourly" not in celery_module.beat_schedule(without)
    digest = celery_module.beat_schedule(with_app)["notifications-send-due-digests-hourly"]

    assert digest["task"] == "notifications.tasks.send_due_digests"
    assert digest["schedule"] == crontab(minute=0)


def test_the_loop_keeps_the_last_runs_in_the_state_file(tmp_path, monkeypatch):
    state = tmp_path / "state.json"
    entries = schedule.entries(
        {**WEEKLY, "sweep": {"task": "x.sweep", "schedule": 60}},
        now=0.0, at=at(BERLIN, 2026, 12, 7, 4, 59), zone=BERLIN,
    )  # fmt: skip
    monkeypatch.setattr(schedule, "run_task", lambda entry: None)
    ticks = iter([at(BERLIN, 2026, 12, 7, 5, 0, 5)])

    def stop_after_one(seconds):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        schedule.loop(
            entries, clock=lambda: 0.0, sleep=stop_after_one, wall=lambda: next(ticks), state=state
        )

    assert schedule.load_state(state) == {"lock": at(BERLIN, 2026, 12, 7, 5, 0, 5)}


def test_run_schedule_reads_and_keeps_its_state_file(tmp_path, db, monkeypatch):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"forecasting-lock-calls-weekly": "2020-01-06T05:00:00+00:00"}))
    seen = {}

    def capture(entries, *, tick, state):
        seen.update({e.name: e for e in entries}, state=state)

    monkeypatch.setattr(schedule, "loop", capture)

    call_command("run_schedule", "--state", str(state))

    assert seen["state"] == state
    # years overdue: due at once
    assert seen["forecasting-lock-calls-weekly"].due_at < dt.datetime.now(dt.UTC)
    assert seen["forecasting-snapshot-weekly"].due_at > dt.datetime.now(dt.UTC)


def test_run_schedule_now_runs_a_weekly_job_whatever_its_turn(db, monkeypatch):
    ran = []
    monkeypatch.setattr(schedule, "run_task", lambda entry: ran.append(entry.task))

    call_command("run_schedule", "--now", "forecasting-lock-calls-weekly", "refresh-sweep")

    assert sorted(ran) == ["forecasting.tasks.lock_weekly_calls", "salesmgmt.tasks.refresh_sweep"]
