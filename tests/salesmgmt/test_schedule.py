"""The beat schedule run in-process (embedded mode): entries, turns, failures, the command."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command
from django.utils import timezone

from salesmgmt import schedule
from salesmgmt.celery import app
from salesmgmt.models import WebhookDelivery
from tests.salesmgmt.api.test_webhooks import receiver, subscription  # noqa: F401


def test_entries_are_first_due_one_interval_after_the_start():
    beat = {
        "a": {"task": "x.a", "schedule": 60},
        "b": {"task": "x.b", "schedule": dt.timedelta(hours=1), "kwargs": {"force": True}},
    }

    a, b = schedule.entries(beat, now=1000.0)

    assert (a.name, a.task, a.every, a.next_at) == ("a", "x.a", 60.0, 1060.0)
    assert (b.every, b.next_at, b.kwargs) == (3600.0, 4600.0, {"force": True})


def test_only_interval_and_crontab_schedules_run_in_process():
    with pytest.raises(TypeError, match="only interval and crontab schedules"):
        schedule.entries({"c": {"task": "x.c", "schedule": "at three"}}, now=0.0)
    [cron] = schedule.entries(
        {"c": {"task": "x.c", "schedule": crontab(minute=0, hour=3)}},
        now=0.0,
        at=dt.datetime(2026, 5, 4, 12, tzinfo=dt.UTC),
        zone=dt.UTC,
    )
    assert cron.due_at == dt.datetime(2026, 5, 5, 3, tzinfo=dt.UTC)


def test_due_entries_run_once_however_late_and_a_failure_does_not_stop_the_others(caplog):
    entries = schedule.entries(
        {"often": {"task": "t.often", "schedule": 10}, "rare": {"task": "t.rare", "schedule": 100}},
        now=0.0,
    )
    calls = []

    def run(entry):
        calls.append(entry.name)
        if entry.name == "often":
            raise RuntimeError("broken")

    assert schedule.run_due(entries, now=5.0, run=run) == []
    # 35 s late for "often": it runs once, not three times, and its next turn is from now
    assert schedule.run_due(entries, now=45.0, run=run) == ["often"]
    assert schedule.run_due(entries, now=54.0, run=run) == []
    assert schedule.run_due(entries, now=120.0, run=run) == ["often", "rare"]
    assert calls == ["often", "often", "rare"]
    assert "Scheduled job often (t.often) failed" in caplog.text


def test_the_projects_schedule_runs_in_process_and_names_real_tasks():
    entries = schedule.entries(app.conf.beat_schedule, now=0.0)

    assert len(entries) == len(app.conf.beat_schedule) >= 10
    tasks = schedule.registered_tasks()
    assert [entry.task for entry in entries if entry.task not in tasks] == []


def test_run_schedule_now_retries_an_overdue_webhook_without_a_worker(subscription, receiver):  # noqa: F811
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event="opportunity.won",
        payload={},
        next_attempt_at=timezone.now() - dt.timedelta(hours=1),
    )

    call_command("run_schedule", "--now", "enqueue-overdue-webhooks")

    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(receiver.received) == 1


def test_run_schedule_refuses_unknown_entries_and_a_configured_broker(settings, db):
    with pytest.raises(CommandError, match="No such schedule entry: nope"):
        call_command("run_schedule", "--now", "nope")

    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(CommandError, match="run Celery beat instead"):
        call_command("run_schedule", "--now")
