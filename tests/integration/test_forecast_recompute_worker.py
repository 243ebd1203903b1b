"""An opportunity edit reaches the forecast rollups through the refresh path (stale marks, the
rollups' batch), run by a real Celery worker process over Redis on PostgreSQL: within a second
at p95 over 20 edits."""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from forecasting.aggregate_kinds import KPIS, ROLLUPS
from forecasting.models import ForecastRollup, KpiSnapshot, Scope
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.models import Period, Role, StaleMark
from salesmgmt.services import periods_ensure
from tests.factories import AccountFactory, UserFactory, build_process
from tests.fixtures.celery_worker import (
    delete_queue,
    require_worker_services,
    start_celery_worker,
    wait_until_idle,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_applies_a_debounced_recompute_after_a_deal_edit(
    celery_worker_process, wait_for_worker, settings
):
    # given a rep under a manager with one commit deal this quarter, fully recomputed
    period, rep, deal, team_commit = _one_commit_deal_recomputed(tag="w")
    settings.FORECASTING_RECOMPUTE_QUEUE = celery_worker_process
    manager = rep.manager

    assert team_commit() == Decimal(1000)

    # when the rep edits the deal twice in a burst (each commit asks for a recompute)
    deal_services.opportunity_update(actor=rep, opportunity=deal, amount=Decimal(2000))
    deal_services.opportunity_update(actor=rep, opportunity=deal, amount=Decimal(3500))

    # then the worker's batch brings the team's rollup up to date
    wait_for_worker(lambda: team_commit() == Decimal(3500), what="the edited rollup", timeout=30)
    wait_for_worker(
        lambda: not StaleMark.objects.filter(kind__in=[ROLLUPS, KPIS]).exists(),
        what="every rollup and KPI mark refreshed",
    )
    own = ForecastRollup.objects.get(person=rep, period=period, scope=Scope.OWN)
    assert own.commit_amount == Decimal(3500)
    assert own.computed_at > timezone.now() - dt.timedelta(minutes=1)
    # and the KPI follow-up task writes the rep's and the manager's KPI rows
    wait_for_worker(
        lambda: (
            KpiSnapshot.objects.filter(person=manager, period=period, scope=Scope.SUBTREE)
            .filter(pipeline_amount=Decimal(3500))
            .exists()
        ),
        what="the manager's KPI row",
    )


EDITS = 20


@pytest.fixture
def production_window_worker(celery_worker_process):
    """A worker of its own with the production KPI window (60 s), as deployed: its KPI
    batches wait for the window instead of running between two edits' rollup batches."""
    broker = require_worker_services()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker = start_celery_worker(queue, {"FORECASTING_KPI_DEBOUNCE_SECONDS": "60"})
    try:
        yield worker
    finally:
        wait_until_idle(queue)
        worker.stop()
        delete_queue(broker, queue)


def test_an_edit_reaches_the_rollup_promptly_with_a_worker(production_window_worker, settings):
    # given a rep under a manager with one commit deal this quarter, fully recomputed, and a
    # worker that has run one batch already (imports warm)
    settings.FORECASTING_KPI_DEBOUNCE_SECONDS = 60
    _, rep, deal, team_commit = _one_commit_deal_recomputed(tag="l")
    settings.FORECASTING_RECOMPUTE_QUEUE = production_window_worker.queue

    deal_services.opportunity_update(actor=rep, opportunity=deal, amount=Decimal(1001))
    deadline = time.monotonic() + 60
    while team_commit() != Decimal(1001):
        assert time.monotonic() < deadline, production_window_worker.tail()
        time.sleep(0.1)

    # when the rep edits the deal 20 times, each once the previous edit has shown
    latencies = []
    for index in range(EDITS):
        amount = Decimal(2000 + index)
        started = time.perf_counter()
        deal_services.opportunity_update(actor=rep, opportunity=deal, amount=amount)
        while team_commit() != amount:
            assert time.perf_counter() - started < 10, f"edit {index} never reached the rollup"
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)

    # then the team's rollup shows each edit promptly: the one-second target is measured by
    # `manage.py bench_forecasting` on a quiet machine (docs/benchmarks.md); here, beside the
    # parallel suite, the bound only catches a rollup batch waiting behind another kind's
    # (a KPI batch between every two edits cost p95 3 s)
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"edit -> rollup with a worker: p50 {p50:.3f} s, p95 {p95:.3f} s over {EDITS} edits")
    assert p95 <= 2.0, latencies


def _one_commit_deal_recomputed(*, tag: str):
    """A rep under a manager with one 1,000 commit deal this quarter, fully recomputed; returns
    the quarter, the rep, the deal and a reader of the manager's team commit.

    Call it before routing the rollup batches to the test's worker: the batches its writes send
    would otherwise run on the worker while the full recompute here writes the same rows (the
    marks they leave are claimed by the first batch the test's edit sends)."""
    today = timezone.localdate()
    periods_ensure(year=today.year)
    period = Period.objects.get(kind="quarter", start_on__lte=today, end_on__gte=today)
    process = build_process(name=f"{tag} process")
    process.stages.update(default_forecast_category="commit")
    manager = UserFactory(username=f"{tag}manager", role=Role.MANAGER)
    rep = UserFactory(username=f"{tag}rep", manager=manager)
    deal = deal_services.opportunity_create(
        actor=rep,
        account=AccountFactory(owner=rep),
        name=f"{tag} deal",
        amount=Decimal(1000),
        expected_close_on=max(today, period.start_on),
        process=process,
    )
    forecast_recompute_all(trials=500, with_kpis=False)

    def team_commit() -> Decimal:
        return ForecastRollup.objects.get(
            person=manager, period=period, scope=Scope.SUBTREE
        ).commit_amount

    return period, rep, deal, team_commit
