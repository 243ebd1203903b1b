"""Two Celery worker processes share one full recompute (its shards), and the rows equal the
in-process run's; kill -9 one of them in the middle of a shard and the run still finishes,
with the same rows.

Real processes over Redis on PostgreSQL. Each shard pauses first (FORECASTING_RUN_PHASE_DELAY_
SECONDS, test-only) so neither worker drains the queue alone and the kill lands mid-shard; the
stale threshold is lowered so the beat's reconciler resumes the run seconds after the live
worker ran out of shards.
"""

from __future__ import annotations

import os
import signal
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from forecasting import tasks
from forecasting.models import RecomputeRun, RecomputeShard
from forecasting.services import runs
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.celery import app as celery_app
from tests.fixtures.celery_worker import delete_queue, require_worker_services, start_celery_worker

from .aggregates import aggregate_snapshot, assert_same_aggregates
from .test_recompute_worker_killed import forget_unacked, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRIALS = 2000
WORKER_ENV = {"FORECASTING_RUN_PHASE_DELAY_SECONDS": "0.6", "FORECASTING_RUN_STALE_SECONDS": "3"}


@pytest.fixture
def shared_queue():
    """A queue of this test's own, two workers on it, and the broker left clean after."""
    broker = require_worker_services()
    queue = f"test-shards-{uuid.uuid4().hex[:10]}"
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=1.0, stdout=StringIO())
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    workers: list = []
    try:
        yield queue, workers
    finally:
        celery_app.conf.task_always_eager = was_eager
        for worker in workers:
            worker.stop()
        forget_unacked(broker, queue)
        delete_queue(broker, queue)


def finished(run: RecomputeRun):
    def check() -> bool:
        run.refresh_from_db()
        return run.status not in RecomputeRun.UNFINISHED

    return check


def in_process_rows(run: RecomputeRun) -> dict[str, list[tuple]]:
    """The rows of the same run (moment, trials) done in this process, shard after shard."""
    forecast_recompute_all(now=run.as_of, trials=TRIALS)
    return aggregate_snapshot()


def test_two_workers_share_a_run_and_leave_the_in_process_rows(shared_queue):
    queue, workers = shared_queue
    workers += [start_celery_worker(queue, WORKER_ENV), start_celery_worker(queue, WORKER_ENV)]
    run = runs.full_recompute_start(trials=TRIALS)

    # when the run is sent to the queue both workers listen on
    tasks.recompute_all_forecasts.apply_async(kwargs={"run_id": run.pk}, queue=queue)
    wait_until(finished(run), what="the shared run finishing", worker=workers[0], timeout=240)

    # then it is done, and both worker processes ran shards of it
    assert (run.status, run.attempts) == (RecomputeRun.Status.DONE, 1), workers[1].tail()
    shards = RecomputeShard.objects.filter(run=run)
    assert set(shards.values_list("state", flat=True)) == {"done"}
    pids = {worker.split(":")[-1] for worker in shards.values_list("worker", flat=True)}
    assert pids == {str(w.process.pid) for w in workers}
    # and its rows equal the in-process run's for the same moment and trials
    shared = aggregate_snapshot()
    assert shared["ForecastRollup"]
    assert shared["KpiSnapshot"]
    assert_same_aggregates(shared, in_process_rows(run))


def test_a_worker_killed_mid_shard_does_not_stop_the_run(shared_queue):
    queue, workers = shared_queue
    killed = start_celery_worker(queue, WORKER_ENV)
    workers += [killed, start_celery_worker(queue, WORKER_ENV)]
    run = runs.full_recompute_start(trials=TRIALS)
    tasks.recompute_all_forecasts.apply_async(kwargs={"run_id": run.pk}, queue=queue)
    shards = RecomputeShard.objects.filter(run=run)

    # when one worker is killed with -9 while it is in the middle of a shard
    def mid_shard() -> bool:
        return (
            shards.filter(state="done").count() >= 2
            and shards.filter(state="running", worker__endswith=f":{killed.process.pid}").exists()
        )

    wait_until(mid_shard, what="the first worker in the middle of a shard", worker=killed)
    os.kill(killed.process.pid, signal.SIGKILL)
    killed.process.wait(timeout=10)
    (lost,) = shards.filter(state="running", worker__endswith=f":{killed.process.pid}")

    # then the live worker sends the lost shard again once its heartbeat is stale; if the lost
    # shard was the last one running, the run goes stale instead and the beat's reconciler
    # resumes it (sent here, as beat would)
    def finished_or_stale() -> bool:
        return finished(run)() or runs.stale_run_ids() == [run.pk]

    wait_until(finished_or_stale, what="the run finishing or going stale", worker=workers[1])
    if run.status in RecomputeRun.UNFINISHED:
        tasks.reconcile_recomputes.apply_async(queue=queue)
    wait_until(finished(run), what="the run finishing", worker=workers[1], timeout=300)
    assert run.status == RecomputeRun.Status.DONE, workers[1].tail()
    lost.refresh_from_db()
    assert (lost.state, lost.attempts) == ("done", 2)
    assert not lost.worker.endswith(f":{killed.process.pid}")
    # and every aggregate equals that of an undisturbed run
    assert_same_aggregates(aggregate_snapshot(), in_process_rows(run))
