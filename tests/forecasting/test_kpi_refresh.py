"""The debounced KPI follow-up: requests coalesce per person and period, one batch per window,
the same rows a full recompute writes, and claims that are safe to redeliver or reconcile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from forecasting import tasks
from forecasting.models import KpiRequest, KpiSnapshot, Scope
from forecasting.services import requests
from forecasting.services.recompute import recompute_all
from tests.factories import ActivityFactory
from tests.forecasting.factories import deal

WINDOW = 60


@pytest.fixture
def window(settings):
    settings.FORECASTING_KPI_DEBOUNCE_SECONDS = WINDOW
    return dt.timedelta(seconds=WINDOW + 1)


@pytest.fixture
def settled(rep_a, rep_b, stages, close_on, period):
    """Two reps with a commit deal each and a won one, fully recomputed (KPIs included)."""
    mine = deal(rep_a, 1000, close_on=close_on, stage=stages["Negotiate"])
    deal(rep_b, 5000, close_on=close_on, stage=stages["Negotiate"])
    deal(rep_a, 700, close_on=period.start_on, status="won")
    recompute_all()
    return mine


@pytest.fixture
def computations(monkeypatch):
    """Every KPI computation the batches run, as (people, periods)."""
    calls: list[tuple[list[int], list[int]]] = []
    real = requests.recompute_kpis_for_people

    def counting(*, person_ids, period_ids):
        calls.append((list(person_ids), list(period_ids)))
        return real(person_ids=person_ids, period_ids=period_ids)

    monkeypatch.setattr(requests, "recompute_kpis_for_people", counting)
    return calls


def kpi_pipeline(person, period, scope=Scope.OWN) -> Decimal:
    return KpiSnapshot.objects.get(person=person, period=period, scope=scope).pipeline_amount


def _kpi_values():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in KpiSnapshot.objects.values()
    )


def test_a_burst_of_requests_leaves_one_pending_row_per_person_and_period(
    rep_a, rep_b, period, window
):
    for _ in range(20):
        requests.request_kpis(person_ids=[rep_a.pk, rep_b.pk], period_ids=[period.pk])

    assert KpiRequest.objects.filter(started_at__isnull=True).count() == 2


def test_nothing_is_claimed_before_the_oldest_request_has_waited_its_window(rep_a, period, window):
    requests.request_kpis(person_ids=[rep_a.pk], period_ids=[period.pk])

    assert requests.claim_kpi_requests() == []
    assert tasks.process_kpi_requests() == []  # a task sent early is a no-op
    assert len(requests.claim_kpi_requests(now=timezone.now() + window)) == 1


def test_writes_by_many_reps_within_a_window_cost_one_kpi_computation(
    settled,
    rep_a,
    rep_b,
    period,
    window,
    computations,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    # given the rollup batches run at once and the KPI task is only sent (not run)
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", tasks.run_recompute_requests)
    sent = []
    monkeypatch.setattr(requests, "_schedule_kpis", lambda countdown=None: sent.append(countdown))

    # when both reps edit deals and log activities, several times each
    with django_capture_on_commit_callbacks(execute=True):
        for amount in (1500, 2500, 3500):
            deal_services.update_opportunity(
                actor=rep_a, opportunity=settled, amount=Decimal(amount)
            )
            ActivityFactory(owner=rep_b)
            ActivityFactory(owner=rep_a)

    # then the requests coalesced, and one claim after the window runs them in one computation
    assert computations == []
    pending = KpiRequest.objects.filter(started_at__isnull=True)
    assert sorted(pending.values_list("person_id", "period_id")) == sorted(
        [(rep_a.pk, period.pk), (rep_b.pk, period.pk)]
    )
    assert sent  # each request sends a (cheap) debounced task
    claimed = requests.claim_kpi_requests(now=timezone.now() + window)
    requests.run_kpi_requests(request_ids=claimed)
    assert computations == [(sorted([rep_a.pk, rep_b.pk]), [period.pk])]
    assert not KpiRequest.objects.filter(finished_at__isnull=True).exists()


def test_the_batch_leaves_the_kpi_rows_a_full_recompute_would(
    settled, rep_a, manager_a, period, window
):
    # given a deal edit whose rollups are already applied and whose KPIs are pending
    deal_services.update_opportunity(actor=rep_a, opportunity=settled, amount=Decimal(4200))
    ActivityFactory(owner=rep_a)
    requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk], schedule=False)
    requests.run_requests(request_ids=requests.claim_requests())
    assert kpi_pipeline(rep_a, period) == Decimal(1000)  # not yet: KPIs wait for their window

    # when the KPI batch runs
    requests.run_kpi_requests(request_ids=requests.claim_kpi_requests(now=timezone.now() + window))

    # then its rows are the full recompute's
    assert kpi_pipeline(rep_a, period) == Decimal(4200)
    assert kpi_pipeline(manager_a, period, Scope.SUBTREE) >= Decimal(4200)
    incremental = _kpi_values()
    recompute_all()
    assert _kpi_values() == incremental


def test_only_one_kpi_batch_is_in_flight_and_a_redelivered_one_changes_nothing_more(
    settled, rep_a, rep_b, period, window
):
    later = timezone.now() + window
    requests.request_kpis(person_ids=[rep_a.pk], period_ids=[period.pk], schedule=False)
    first = requests.claim_kpi_requests(now=later)
    requests.request_kpis(person_ids=[rep_b.pk], period_ids=[period.pk], schedule=False)

    assert requests.claim_kpi_requests(now=later + window) == []  # the first is in flight
    tasks.run_kpi_requests(first)
    once = _kpi_values()
    tasks.run_kpi_requests(first)  # the broker redelivers it after a lost ack
    assert _kpi_values() == once
    assert len(requests.claim_kpi_requests(now=later + window)) == 1


def test_requests_arriving_during_a_batch_get_a_task_for_when_they_are_due(
    rep_a, rep_b, period, window, monkeypatch, django_capture_on_commit_callbacks
):
    requests.request_kpis(person_ids=[rep_a.pk], period_ids=[period.pk], schedule=False)
    claimed = requests.claim_kpi_requests(now=timezone.now() + window)
    requests.request_kpis(person_ids=[rep_b.pk], period_ids=[period.pk], schedule=False)
    sent = []
    monkeypatch.setattr(requests, "_schedule_kpis", lambda countdown=None: sent.append(countdown))

    with django_capture_on_commit_callbacks(execute=True):
        requests.run_kpi_requests(request_ids=claimed)

    assert len(sent) == 1
    assert 0 < sent[0] <= WINDOW


def test_reconciler_reenqueues_kpi_requests_started_but_never_finished(
    rep_a, period, window, monkeypatch
):
    requests.request_kpis(person_ids=[rep_a.pk], period_ids=[period.pk], schedule=False)
    ids = requests.claim_kpi_requests(now=timezone.now() + window)
    KpiRequest.objects.filter(pk__in=ids).update(
        started_at=timezone.now() - requests.STALE_AFTER - dt.timedelta(minutes=1)
    )
    sent = []
    monkeypatch.setattr(tasks.run_kpi_requests, "delay", sent.append)
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", lambda ids: None)

    tasks.reconcile_recomputes()
    tasks.reconcile_recomputes()  # clock restarted: not enqueued twice

    assert sent == [ids]


def test_a_stale_claim_does_not_block_the_next_batch(rep_a, rep_b, period, window):
    later = timezone.now() + window
    requests.request_kpis(person_ids=[rep_a.pk], period_ids=[period.pk], schedule=False)
    stale = requests.claim_kpi_requests(now=later)
    requests.request_kpis(person_ids=[rep_b.pk], period_ids=[period.pk], schedule=False)

    # the worker holding the first claim died; after STALE_AFTER the next claim goes ahead
    claimed = requests.claim_kpi_requests(now=later + requests.STALE_AFTER + window)

    assert claimed
    assert set(claimed).isdisjoint(stale)


def test_an_activity_asks_for_kpis_only_in_the_period_it_happened(
    rep_a, period, window, django_capture_on_commit_callbacks, monkeypatch
):
    from forecasting.models import RecomputeRequest

    monkeypatch.setattr(requests, "_schedule_kpis", lambda countdown=None: None)

    with django_capture_on_commit_callbacks(execute=True):
        ActivityFactory(owner=rep_a)

    assert list(KpiRequest.objects.values_list("person_id", "period_id")) == [(rep_a.pk, period.pk)]
    assert not RecomputeRequest.objects.exists()  # activities are in no rollup
