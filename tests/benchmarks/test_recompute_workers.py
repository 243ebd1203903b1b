"""``bench --recompute-workers``: real worker processes share a full run; a run that goes stale
(here: its first message lost) is resumed the way beat's reconciler would, and says so.

Real processes over Redis on PostgreSQL, like tests/integration/test_recompute_shared_workers.py.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from benchmarks import recompute_workers
from forecasting import tasks
from forecasting.models import RecomputeRun
from salesmgmt.celery import app as celery_app
from tests.fixtures.celery_worker import database_url_for_test_db, require_worker_services

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bench_workers(monkeypatch, settings):
    require_worker_services()
    call_command("seed_demo", reps=6, opportunities=80, activities_per_deal=1.0, stdout=StringIO())
    # The workers the bench starts read the test database, and call a run stale after 3 s.
    monkeypatch.setenv("DATABASE_URL", database_url_for_test_db())
    monkeypatch.setenv("FORECASTING_RUN_STALE_SECONDS", "3")
    settings.FORECASTING_RUN_STALE_SECONDS = 3
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = was_eager


def test_a_run_whose_message_was_lost_is_resumed_and_counted(bench_workers, monkeypatch):
    send = tasks.recompute_all_forecasts.apply_async
    sent: list[dict] = []

    def lose_the_first(*args, **kwargs):
        sent.append(kwargs)
        return None if len(sent) == 1 else send(*args, **kwargs)

    monkeypatch.setattr(tasks.recompute_all_forecasts, "apply_async", lose_the_first)

    result = recompute_workers.measure(workers=1, trials=200)

    # At least once (a worker starved of CPU can renew its heartbeat late and look stale
    # again for a moment: a further message finds the run taken and does nothing).
    assert result.resumed >= 1
    assert f"RESUMED {result.resumed}x" in result.line(None)
    assert any("Resuming recompute run" in line for line in result.worker_log)
    assert len(sent) == 1 + result.resumed
    assert {kwargs["queue"] for kwargs in sent} == {sent[0]["queue"]}  # onto the bench's queue
    run = RecomputeRun.objects.latest("pk")
    assert run.status == RecomputeRun.Status.DONE
    assert set(run.shards.values_list("state", flat=True)) == {"done"}
