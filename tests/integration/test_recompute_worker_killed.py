"""kill -9 the Celery worker in the middle of a full recompute: another worker resumes the run
and the aggregates equal those of an undisturbed run (no duplicates, no gaps).

Real processes over Redis on PostgreSQL. The worker pauses between phases
(FORECASTING_RUN_PHASE_DELAY_SECONDS, test-only) so the kill lands mid-run, after some
periods were rewritten and before the others; the stale threshold is lowered so the
restarted worker (``worker_ready``) resumes the run within seconds, not a minute. The beat
reconciler's path is covered in tests/forecasting/test_recompute_run.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from forecasting import tasks
from forecasting.models import ForecastRollup, RecomputeRun, RecomputeShard
from forecasting.services import runs
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.celery import app as celery_app
from tests.fixtures.celery_worker import delete_queue, require_worker_services, start_celery_worker

from .aggregates import aggregate_snapshot, assert_same_aggregates

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRIALS = 2000
WORKER_ENV = {"FORECASTING_RUN_PHASE_DELAY_SECONDS": "1.5", "FORECASTING_RUN_STALE_SECONDS": "3"}


def wait_until(condition, *, what: str, worker, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"No {what} after {timeout}s. Worker log:\n{worker.tail()}")
        time.sleep(0.1)


def forget_unacked(broker, queue: str) -> None:
    """Drop the killed task's unacked copy (Redis would restore it to our queue in an hour)."""
    for tag, raw in broker.hgetall("unacked").items():
        if queue in raw.decode(errors="replace"):
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)


def test_full_recompute_survives_kill_9_of_its_worker():
    broker = require_worker_services()
    queue = f"test-kill-{uuid.uuid4().hex[:10]}"
    # given a small demo organisation (periods, a team tree, open and closed deals)
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=1.0, stdout=StringIO())
    run = runs.full_recompute_start(trials=TRIALS)
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    first = second = None
    try:
        # when a worker starts the run and is killed with -9 while it is mid-way
        first = start_celery_worker(queue, WORKER_ENV)
        tasks.recompute_all_forecasts.apply_async(kwargs={"run_id": run.pk}, queue=queue)

        def past_first_periods() -> bool:
            run.refresh_from_db()
            # Inside a shard (each sleeps 1.5 s first), not in the moment between two: the
            # progress moves as a shard ends, when no shard may be running yet.
            running = run.shards.filter(state=RecomputeShard.State.RUNNING).exists()
            return run.phase.startswith("rollups") and run.progress >= 0.3 and running

        wait_until(past_first_periods, what="a run half-way through its periods", worker=first)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        run.refresh_from_db()
        assert run.status == RecomputeRun.Status.RUNNING, "the kill came too late"
        assert ForecastRollup.objects.exists(), "the kill came before any rows were written"

        # and the worker is restarted (no beat: the restarted worker looks for abandoned runs)
        second = start_celery_worker(queue, WORKER_ENV)

        def finished() -> bool:
            run.refresh_from_db()
            return run.status not in RecomputeRun.UNFINISHED

        wait_until(finished, what="the resumed run finishing", worker=second, timeout=240)
    finally:
        celery_app.conf.task_always_eager = was_eager
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        forget_unacked(broker, queue)
        delete_queue(broker, queue)

    # then the run completed: resumed by the restarted worker (a second attempt), or its lost
    # shard sent again by the worker that finished the next shard (services.shards)
    assert run.status == RecomputeRun.Status.DONE, second.tail()
    assert run.shards.filter(attempts=2).exists(), "no shard was lost to the kill"
    resumed = aggregate_snapshot()
    # and every aggregate equals that of an undisturbed run for the same moment and trials
    forecast_recompute_all(now=run.as_of, trials=TRIALS)
    undisturbed = aggregate_snapshot()
    assert undisturbed["ForecastRollup"], "nothing to compare: the seed made no rollups"
    assert_same_aggregates(resumed, undisturbed)
    assert json.dumps(sorted(run.timings)) != "[]"
