"""Celery application and the one beat schedule of the project."""

import os

from celery import Celery

from .broker_workarounds import guard_closed_connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings.local")

# Before any worker connects: a Redis restart must not kill the worker (see the module).
guard_closed_connection()

app = Celery("salesmgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, one list; each entry says why it runs when it does.
app.conf.beat_schedule = {
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
    # Milestone definitions can change in the admin; re-derive every open deal's stage nightly
    # so a missed on-commit trigger never leaves a stale stage for more than a day.
    "refresh-open-opportunity-stages-nightly": {
        "task": "accounts.tasks.refresh_all_open_stages",
        "schedule": 24 * 60 * 60,
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
    # Territory balance is monitored, not planned once a year: each week snapshot every
    # territory's balance index and flag drift outside the band. Rows are keyed by territory
    # and week, so an extra or retried run only recomputes the same rows. The same run
    # recomputes the territory page's planning reports (a new snapshot each time).
    "record-territory-balance-weekly": {
        "task": "territories.tasks.record_territory_balance",
        "schedule": 7 * 24 * 60 * 60,
    },
    # The territory page's precomputed balance, coverage and rebalancing are refreshed after
    # every territory, rule or assignment change (the refresh path's "planning" kind);
    # nightly picks up what those do not mark (account edits, deals, activities, rates). A
    # forced run writes a new snapshot, so extra runs are harmless.
    "refresh-territory-planning-nightly": {
        "task": "territories.tasks.refresh_territory_planning",
        "schedule": 24 * 60 * 60,
        "kwargs": {"force": True},
    },
    # Attainment: every change marks its periods and the refresh path's batches and sweep keep
    # them fresh. Nightly every computed period and the current ones are marked anyway:
    # writes that bypass the services (admin, imports, bulk updates) show up within a day.
    "mark-attainment-stale-nightly": {
        "task": "territories.tasks.mark_attainment_stale",
        "schedule": 24 * 60 * 60,
    },
    # Compliance: marked per person by every change, like attainment. Scores also move with
    # the calendar (the 14-day activity window and the close-date check roll at midnight),
    # which no write says: every five minutes the summaries computed before today are marked
    # (one small query; nothing when none is), so the rollover shows within minutes. Intervals,
    # not a crontab at midnight: the in-process schedule (salesmgmt.schedule) runs intervals
    # only, and a missed midnight would leave a day's lag.
    "mark-compliance-day-rollover": {
        "task": "coaching.tasks.mark_compliance_rolled_over",
        "schedule": 5 * 60,
    },
    # Nightly every active seller is marked (a summary for new sellers too): writes that
    # bypass the services (admin, imports, bulk updates) show up within a day.
    "mark-compliance-stale-nightly": {
        "task": "coaching.tasks.mark_compliance_stale",
        "schedule": 24 * 60 * 60,
    },
    # Forecasting: the nightly full recompute (model, probabilities, rollups, Monte Carlo
    # ranges, KPIs) rebuilds every aggregate, including what bulk loads left unmarked.
    "forecasting-recompute-all-nightly": {
        "task": "forecasting.tasks.recompute_all_forecasts",
        "schedule": 24 * 60 * 60,
    },
    # Inspection flags age by the day (no activity in 14 days, close date passed): nightly.
    "forecasting-inspection-flags-nightly": {
        "task": "forecasting.tasks.refresh_inspection_flags",
        "schedule": 24 * 60 * 60,
    },
    # The backtest replays the last four ended quarters week by week; a day's lag is fine.
    "forecasting-backtest-nightly": {
        "task": "forecasting.tasks.run_backtest",
        "schedule": 24 * 60 * 60,
    },
    # The weekly picture of every open deal (history is exact anyway; pages read these).
    "forecasting-snapshot-weekly": {
        "task": "forecasting.tasks.take_weekly_snapshots",
        "schedule": 7 * 24 * 60 * 60,
    },
    # The weekly lock freezes each person's call of record (the last call carries over).
    "forecasting-lock-calls-weekly": {
        "task": "forecasting.tasks.lock_weekly_calls",
        "schedule": 7 * 24 * 60 * 60,
    },
    # A full recompute run whose worker died is resumed (the incremental rollups and KPIs are
    # the refresh sweep's, above); five minutes bounds the wait.
    "forecasting-reconcile-recomputes": {
        "task": "forecasting.tasks.reconcile_recomputes",
        "schedule": 5 * 60,
    },
    # Compensation: recompute the current quarter's draft payout run nightly so every rep can
    # check a fresh draft statement (and the what-if) against their own numbers; unchanged
    # inputs are a no-op (fingerprint), and processed runs and locked statements never change.
    "compensation-draft-payouts-nightly": {
        "task": "compensation.tasks.run_current_payouts",
        "schedule": 24 * 60 * 60,
    },
}
