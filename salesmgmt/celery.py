"""Celery application and the one beat schedule of the project.

Sweeps that only bound a delay run on intervals (every few minutes). Jobs that belong to a
time of day or a day of the week are crontabs pinned to the wall clock in CELERY_TIMEZONE
(the company's TIME_ZONE unless set): the nightly jobs at NIGHTLY_JOBS_HOUR, the weekly ones
on WEEKLY_JOBS_WEEKDAY at WEEKLY_JOBS_HOUR. An interval is counted from when beat started,
so a restart on Sunday used to push Monday's call lock to the next Sunday; a crontab does
not move, and beat (its schedule file) or ``manage.py run_schedule`` (its state file) runs a
turn missed while it was down as soon as it is back.
"""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

from .broker_workarounds import guard_closed_connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings.local")

# Before any worker connects: a Redis restart must not kill the worker (see the module).
guard_closed_connection()

app = Celery("salesmgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

DIGEST_TASK = "notifications.tasks.send_due_digests"

# The frequent sweeps: each bounds how long something can wait, so an interval is right.
FREQUENT: dict[str, dict[str, Any]] = {
    # Subscribed calendars (capture app) are read every 15 minutes: a meeting booked, moved or
    # cancelled shows on its deal within that; a re-read changes nothing that did not change.
    "capture-calendars-fetch": {
        "task": "capture.tasks.capture_calendars_fetch_all",
        "schedule": 15 * 60,
    },
    # The one refresh path (salesmgmt.refresh): every write marks what it made stale and sends
    # a batch; this sweep runs what a lost message or a killed worker left, so a figure is at
    # most a minute (plus its batch) behind once a worker is up again.
    "refresh-sweep": {
        "task": "salesmgmt.tasks.refresh_sweep",
        "schedule": 60,
    },
    # A delivery whose scheduled retry never ran (worker lost, broker flushed) is picked up
    # again; every few minutes keeps the promised backoff roughly intact.
    "enqueue-overdue-webhooks": {
        "task": "salesmgmt.tasks.enqueue_overdue_webhooks",
        "schedule": 5 * 60,
    },
    # An import created while the broker was down stays pending; this sends it once Redis is
    # back (a running job is claimed, so a job sent twice still runs once).
    "enqueue-stalled-imports": {
        "task": "salesmgmt.csv_import.tasks.enqueue_stalled_imports",
        "schedule": 2 * 60,
    },
    # Idempotency keys are honoured for IDEMPOTENCY_TTL_HOURS; older replays are dropped hourly.
    "purge-idempotency-records-hourly": {
        "task": "salesmgmt.tasks.purge_idempotency_records",
        "schedule": 60 * 60,
    },
    # Compliance: marked per person by every change, like attainment. Scores also move with
    # the calendar (the 14-day activity window and the close-date check roll at midnight),
    # which no write says: every five minutes the summaries computed before today are marked
    # (one small query; nothing when none is), so the rollover shows within minutes even
    # when the scheduler was down at midnight.
    "mark-compliance-day-rollover": {
        "task": "coaching.tasks.mark_compliance_rolled_over",
        "schedule": 5 * 60,
    },
    # A full recompute run whose worker died is resumed (the incremental rollups and KPIs are
    # the refresh sweep's, above); five minutes bounds the wait.
    "forecasting-reconcile-recomputes": {
        "task": "forecasting.tasks.reconcile_recomputes",
        "schedule": 5 * 60,
    },
}


def nightly(hour: int) -> dict[str, dict[str, Any]]:
    """The nightly jobs, from ``hour`` on, a few minutes apart so they do not all start at once."""
    return {
        # Milestone definitions can change in the admin; re-derive every open deal's stage so
        # a missed on-commit trigger never leaves a stale stage for more than a day.
        "refresh-open-opportunity-stages-nightly": {
            "task": "accounts.tasks.refresh_all_open_stages",
            "schedule": crontab(minute=0, hour=hour),
        },
        # Attainment: every change marks its periods and the refresh path's batches and sweep
        # keep them fresh. Nightly every computed period and the current ones are marked
        # anyway: writes that bypass the services (admin, imports, bulk updates) show up.
        "mark-attainment-stale-nightly": {
            "task": "territories.tasks.mark_attainment_stale",
            "schedule": crontab(minute=5, hour=hour),
        },
        # Every active seller is marked (a summary for new sellers too), for the same reason.
        "mark-compliance-stale-nightly": {
            "task": "coaching.tasks.mark_compliance_stale",
            "schedule": crontab(minute=5, hour=hour),
        },
        # The territory page's precomputed balance, coverage and rebalancing are refreshed
        # after every territory, rule or assignment change (the refresh path's "planning"
        # kind); nightly picks up what those do not mark (account edits, deals, activities,
        # rates). A forced run writes a new snapshot, so extra runs are harmless.
        "refresh-territory-planning-nightly": {
            "task": "territories.tasks.refresh_territory_planning",
            "schedule": crontab(minute=10, hour=hour),
            "kwargs": {"force": True},
        },
        # Forecasting: the full recompute (model, probabilities, rollups, Monte Carlo ranges,
        # KPIs) rebuilds every aggregate, including what bulk loads left unmarked.
        "forecasting-recompute-all-nightly": {
            "task": "forecasting.tasks.recompute_all_forecasts",
            "schedule": crontab(minute=15, hour=hour),
        },
        # Inspection flags age by the day (no activity in 14 days, close date passed).
        "forecasting-inspection-flags-nightly": {
            "task": "forecasting.tasks.refresh_inspection_flags",
            "schedule": crontab(minute=30, hour=hour),
        },
        # The backtest replays the last four ended quarters week by week; a day's lag is fine.
        "forecasting-backtest-nightly": {
            "task": "forecasting.tasks.run_backtest",
            "schedule": crontab(minute=45, hour=hour),
        },
        # Compensation: recompute the current quarter's draft payout run so every rep can
        # check a fresh draft statement (and the what-if) against their own numbers;
        # unchanged inputs are a no-op (fingerprint), processed runs and locked statements
        # never change.
        "compensation-draft-payouts-nightly": {
            "task": "compensation.tasks.run_current_payouts",
            "schedule": crontab(minute=50, hour=hour),
        },
        # Retention: captured mail and meetings older than CAPTURE_KEEP_DAYS are deleted (the
        # activities they became stay), in batches; a re-run finds fewer.
        "capture-purge-nightly": {
            "task": "capture.tasks.purge_captured_items",
            "schedule": crontab(minute=55, hour=hour),
        },
    }


def weekly(weekday: str, hour: int) -> dict[str, dict[str, Any]]:
    """The weekly jobs, on ``weekday`` (crontab's: "mon" or 1) at ``hour``."""
    return {
        # The weekly picture of every open deal (history is exact anyway; pages and the
        # digest's "forecast change since last week" read these).
        "forecasting-snapshot-weekly": {
            "task": "forecasting.tasks.take_weekly_snapshots",
            "schedule": crontab(minute=0, hour=hour, day_of_week=weekday),
        },
        # The weekly lock freezes each person's call of record (the last call carries over).
        "forecasting-lock-calls-weekly": {
            "task": "forecasting.tasks.lock_weekly_calls",
            "schedule": crontab(minute=0, hour=hour, day_of_week=weekday),
        },
        # Territory balance is monitored, not planned once a year: each week snapshot every
        # territory's balance index and flag drift outside the band. Rows are keyed by
        # territory and week, so an extra or retried run only recomputes the same rows. The
        # same run recomputes the territory page's planning reports (a new snapshot each time).
        "record-territory-balance-weekly": {
            "task": "territories.tasks.record_territory_balance",
            "schedule": crontab(minute=15, hour=hour, day_of_week=weekday),
        },
    }


def digests() -> dict[str, dict[str, Any]]:
    """The notifications app's jobs. The digest: every hour on the hour, each person picks the
    day and hour of their weekly digest in their own time zone, so the task sends the ones due
    in the hour that starts now."""
    return {
        "notifications-send-due-digests-hourly": {
            "task": DIGEST_TASK,
            "schedule": crontab(minute=0),
        },
        # Call reminders (due, overdue, the managers' roll-up), overdue action items and goals
        # due: each reminder's key names its window, so an extra run stores nothing new.
        "notifications-raise-reminders-hourly": {
            "task": "notifications.tasks.raise_reminders",
            "schedule": crontab(minute=5),
        },
        # A mail whose task was lost (broker down) or whose worker died mid-send (its claim
        # older than NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS) is sent again, once.
        "notifications-sweep-email-sends": {
            "task": "notifications.tasks.sweep_email_sends",
            "schedule": 5 * 60,
        },
        # Notifications older than NOTIFICATIONS_KEEP_DAYS are deleted nightly.
        "notifications-purge-nightly": {
            "task": "notifications.tasks.purge_notifications",
            "schedule": crontab(minute=40, hour=3),
        },
        # Mail records older than NOTIFICATIONS_EMAIL_KEEP_DAYS (sent, failed or skipped) too,
        # in batches: a re-run after a killed worker deletes what is left.
        "notifications-purge-email-sends-nightly": {
            "task": "notifications.tasks.purge_email_sends",
            "schedule": crontab(minute=45, hour=3),
        },
    }


def beat_schedule(settings: Any) -> dict[str, dict[str, Any]]:
    """Every periodic job, one list, from the schedule settings (``django.conf.settings``)."""
    schedule = {
        **FREQUENT,
        **nightly(settings.NIGHTLY_JOBS_HOUR),
        **weekly(settings.WEEKLY_JOBS_WEEKDAY, settings.WEEKLY_JOBS_HOUR),
    }
    # The digest task belongs to the notifications app: scheduled once it is installed, so
    # beat never sends a task no worker knows.
    if any(name.split(".")[0] == "notifications" for name in settings.INSTALLED_APPS):
        schedule.update(digests())
    return schedule


@app.on_after_configure.connect
def install_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    """Built once Celery has read Django's settings (the hours and weekday live there)."""
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings)
