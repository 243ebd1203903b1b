"""Two writers of one period's rollups at once wait for each other instead of colliding.

At 1 M deals a run once looked stale while its workers were still in their shards; the
resumed run sent a running month again, and the two copies' delete + insert met on the unique
subtree rows (``subtree_trials_unique``): the run failed. The same meeting awaits an edit's
batch that rewrites a chain of the period a full run's shard is rewriting. Each writer now
takes the period's lock (``locks.lock_period_rollups``) first, so the second waits and then
replaces what the first wrote.

Each test holds the first writer's transaction open until the second is seen waiting in
PostgreSQL, then commits: without the lock the second fails on the unique rows.
"""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from forecasting.analytics import montecarlo
from forecasting.models import ForecastRollup, RecomputeShard, SubtreeTrialVector
from forecasting.services import recompute
from forecasting.services.recompute import forecast_recompute_all
from reconciliation import verify_figures
from salesmgmt.models import Period
from tests.fixtures.services import require_postgresql
from tests.forecasting.test_recompute_shards import TRIALS, planned_run
from tests.integration.aggregates import aggregate_snapshot, assert_same_aggregates

pytestmark = pytest.mark.django_db(transaction=True)
SEED = montecarlo.DEFAULT_SEED


@pytest.fixture
def demo():
    require_postgresql("Concurrent transactions need a PostgreSQL DATABASE_URL.")
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=1.0, stdout=StringIO())


def _waiting_backends() -> int:
    """Other sessions of this database waiting for a lock (an advisory or a row lock)."""
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views keep their first snapshot: take a new one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _second_writer_while_the_first_holds(first, second) -> list[BaseException]:
    """Run ``first`` in an open transaction, start ``second`` in a thread, commit ``first``
    once ``second`` waits for a lock; the second's errors."""
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            second()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's connection

    thread = threading.Thread(target=run_second)
    with transaction.atomic():
        first()
        thread.start()
        deadline = time.monotonic() + 60
        while thread.is_alive() and _waiting_backends() == 0:
            assert time.monotonic() < deadline, "the second writer never reached the rows"
            time.sleep(0.05)
    thread.join(timeout=120)
    assert not thread.is_alive()
    return errors


def _month_shard(run) -> RecomputeShard:
    """The run's shard of a month with open deals (its rows exist from the run before).

    A month, as at 1 M deals: a quarter's shard first upserts its deal scores, whose row
    locks alone would make the second writer wait."""
    for shard in RecomputeShard.objects.filter(run=run, stage="rollups").order_by("position"):
        (period_id,) = shard.period_ids
        if Period.objects.filter(pk=period_id, kind="month").exists() and (
            ForecastRollup.objects.filter(period_id=period_id, open_deal_count__gt=0).exists()
        ):
            return shard
    raise AssertionError("no month with open deals")


def test_the_same_shard_twice_at_once_leaves_the_rows_of_one(demo):
    # given the rows of a full run, and a second run for the same moment, planned
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS, seed=SEED)
    expected = aggregate_snapshot()
    run, _ = planned_run(as_of)
    shard = RecomputeShard.objects.select_related("run", "run__model").get(pk=_month_shard(run).pk)
    assert SubtreeTrialVector.objects.filter(period_id=shard.period_ids[0]).exists()

    # when two workers both run its month's shard (one looked dead, and was not)
    errors = _second_writer_while_the_first_holds(
        lambda: recompute._shard_rows(shard, seed=SEED),
        lambda: recompute._shard_rows(shard, seed=SEED),
    )

    # then neither failed, and the rows are those of one run
    assert errors == []
    assert_same_aggregates(aggregate_snapshot(), expected)


def test_an_edits_batch_during_a_shard_of_its_period_waits_for_it(demo):
    # given a full run's rows and a shard rewriting a month with open deals
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS, seed=SEED)
    run, _ = planned_run(as_of)
    shard = RecomputeShard.objects.select_related("run", "run__model").get(pk=_month_shard(run).pk)
    period = Period.objects.get(pk=shard.period_ids[0])
    owner_id = (
        ForecastRollup.objects.filter(period=period, scope="own", open_deal_count__gt=0)
        .values_list("person_id", flat=True)
        .first()
    )

    # when an edit's batch rewrites one of its owners' chains while the shard writes
    errors = _second_writer_while_the_first_holds(
        lambda: recompute._shard_rows(shard, seed=SEED),
        lambda: recompute.forecast_recompute_people(person_ids=[owner_id], period_ids=[period.pk]),
    )

    # then the batch waited instead of failing, and the stored figures still reconcile
    assert errors == []
    assert [str(d) for d in verify_figures(aggregates=["rollups"])] == []
