"""The full recompute as a resumable run: one at a time, resumed after its worker dies, and a
resumed run leaves exactly the rows of an undisturbed one."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from forecasting import tasks
from forecasting.models import ForecastRollup, RecomputeRun
from forecasting.services import recompute, runs
from forecasting.services.recompute import forecast_recompute_all
from tests.forecasting.factories import deal
from tests.integration.aggregates import aggregate_snapshot, assert_same_aggregates

TRIALS = 300


class WorkerKilled(BaseException):
    """Stands in for kill -9: not an Exception, so no handler marks the run failed."""


@pytest.fixture
def org(rep_a, se_a, rep_b, stages, period, close_on):
    """Deals for three sellers, open and closed, in the current quarter and the last one."""
    # Created well before last quarter began: its close dates are known at every cutoff.
    created = timezone.now() - dt.timedelta(days=200)
    last_quarter_day = period.start_on - dt.timedelta(days=20)
    for owner, amount in ((rep_a, 1000), (se_a, 700), (rep_b, 2500)):
        deal(owner, amount, close_on=close_on, stage=stages["Negotiate"])
        deal(owner, amount * 2, close_on=close_on, category="commit")
        deal(owner, amount, close_on=last_quarter_day, status="won", created_at=created)
        deal(owner, amount // 2, close_on=last_quarter_day, status="lost", created_at=created)


def make_stale(run: RecomputeRun) -> None:
    """The worker holding the run stopped renewing its heartbeats long ago: the run's and that
    of the shard it was in."""
    long_ago = timezone.now() - runs.stale_after() - dt.timedelta(seconds=5)
    RecomputeRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago, updated_at=long_ago)
    run.shards.filter(state="running").update(heartbeat_at=long_ago)


def test_full_recompute_records_a_finished_run(org):
    timings = runs.full_recompute_run(trials=TRIALS)

    run = RecomputeRun.objects.get()
    assert timings is not None
    assert run.status == RecomputeRun.Status.DONE
    assert run.finished_at is not None
    assert (run.trials, run.attempts, run.phase) == (TRIALS, 1, "done")
    assert run.as_of is not None
    assert ForecastRollup.objects.exists()


def test_a_second_run_is_refused_while_one_is_live(org):
    # given a run claimed by a worker that is alive (fresh heartbeat)
    run = runs.full_recompute_start(trials=TRIALS)
    now = timezone.now()
    runs.locks.claim_recompute_run(
        run_id=run.pk, lease="alive", now=now, stale_before=now - runs.stale_after()
    )

    # when the nightly task and an admin both start a full recompute
    assert runs.full_recompute_start(trials=TRIALS) == run
    assert tasks.recompute_all_forecasts.delay().get() is None
    with pytest.raises(CommandError, match="already running"):
        call_command("recompute_forecasts", stdout=StringIO())

    # then nothing ran: still one run, still held by its worker, no rows written
    assert RecomputeRun.objects.count() == 1
    assert RecomputeRun.objects.get().lease == "alive"
    assert not ForecastRollup.objects.exists()
    assert runs.stale_run_ids() == []


def test_interrupted_run_is_resumed_by_the_reconciler_with_identical_rows(org, period):
    # given a run killed after its second phase wrote rows (current quarter half-rewritten)
    run = runs.full_recompute_start(trials=TRIALS)
    real_period = recompute.forecast_recompute_period
    calls = []

    def dies_on_third_period(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise WorkerKilled
        return real_period(*args, **kwargs)

    with (
        mock.patch.object(recompute, "forecast_recompute_period", dies_on_third_period),
        pytest.raises(WorkerKilled),
    ):
        runs.full_recompute_run(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.RUNNING
    assert runs.stale_run_ids() == []  # its heartbeat is still fresh: maybe just slow

    # when its heartbeat goes stale and the reconciler (beat) passes
    make_stale(run)
    assert runs.stale_run_ids() == [run.pk]
    tasks.reconcile_recomputes.delay().get()

    # then the same run finished on a second attempt
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RecomputeRun.Status.DONE, 2)
    resumed = aggregate_snapshot()
    # and its rows equal those of an undisturbed run for the same moment and trials
    forecast_recompute_all(now=run.as_of, trials=TRIALS)
    assert_same_aggregates(resumed, aggregate_snapshot())
    assert ForecastRollup.objects.filter(period=period).exists()


def test_redelivered_message_of_a_finished_run_is_a_no_op(org):
    runs.full_recompute_run(trials=TRIALS)
    run = RecomputeRun.objects.get()
    before = aggregate_snapshot()

    # the broker redelivers the killed task's message an hour later
    assert tasks.recompute_all_forecasts.delay(run_id=run.pk).get() is None

    run.refresh_from_db()
    assert run.attempts == 1
    assert_same_aggregates(aggregate_snapshot(), before)


def test_database_error_releases_the_lease_for_the_retry(org):
    run = runs.full_recompute_start(trials=TRIALS)
    with (
        mock.patch.object(recompute, "probability_model_fit", side_effect=OperationalError("gone")),
        pytest.raises(OperationalError),
    ):
        runs.full_recompute_run(run_id=run.pk)

    # the run is neither failed nor held: the task's retry claims it at once
    run.refresh_from_db()
    assert (run.status, run.heartbeat_at) == (RecomputeRun.Status.RUNNING, None)
    assert runs.full_recompute_run(run_id=run.pk) is not None
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.DONE


def test_a_bug_fails_the_run_instead_of_looping(org):
    run = runs.full_recompute_start(trials=TRIALS)
    with (
        mock.patch.object(recompute, "probability_model_fit", side_effect=ValueError("bug")),
        pytest.raises(ValueError, match="bug"),
    ):
        runs.full_recompute_run(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.FAILED
    make_stale(run)
    assert runs.stale_run_ids() == []


# Committed rows: the heartbeat thread has a database connection of its own.
@pytest.mark.django_db(transaction=True)
def test_heartbeat_renews_while_a_phase_runs(org, settings):
    # a phase longer than the stale threshold must not make a live worker look dead
    settings.FORECASTING_RUN_STALE_SECONDS = 2  # a beat every 0.5 s
    settings.FORECASTING_RUN_PHASE_DELAY_SECONDS = 0
    run = runs.full_recompute_start(trials=TRIALS)
    beats = []
    real_fit = recompute.probability_model_fit

    def slow_fit(ctx):
        started = RecomputeRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(3)
        beats.append((started, RecomputeRun.objects.get(pk=run.pk).heartbeat_at))
        return real_fit(ctx)

    with mock.patch.object(recompute, "probability_model_fit", slow_fit):
        runs.full_recompute_run(run_id=run.pk)

    ((before, after),) = beats
    assert after > before


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_run_was_taken_over_stops(org, settings):
    # given a run whose worker looked dead and was taken over by another (lease "other")
    settings.FORECASTING_RUN_STALE_SECONDS = 2  # a beat every 0.5 s
    run = runs.full_recompute_start(trials=TRIALS)
    real_fit = recompute.probability_model_fit

    def taken_over_while_learning(ctx):
        RecomputeRun.objects.filter(pk=run.pk).update(lease="other")
        time.sleep(1.5)  # a few beats: the old worker's heartbeat notices
        return real_fit(ctx)

    # when the old worker reaches its next phase
    with mock.patch.object(recompute, "probability_model_fit", taken_over_while_learning):
        result = runs.full_recompute_run(run_id=run.pk)

    # then it stops before writing rollups or touching the run it no longer holds
    assert result is None
    run.refresh_from_db()
    assert (run.status, run.lease, run.phase) == (RecomputeRun.Status.RUNNING, "other", "learn")
    assert not ForecastRollup.objects.filter(computed_at=run.as_of).exists()
