"""The debounced incremental recompute: coalescing, one batch in flight, redelivery, reconciler."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from forecasting import tasks
from forecasting.models import ForecastRollup, RecomputeRequest, Scope
from forecasting.services import requests
from forecasting.services.recompute import forecast_recompute_all
from tests.forecasting.factories import deal, quarter

FAST: dict = {"with_kpis": False}


@pytest.fixture
def settled(rep_a, rep_b, stages, close_on, period, settings):
    """Two reps with a commit deal each, fully recomputed."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    mine = deal(rep_a, 1000, close_on=close_on, stage=stages["Negotiate"])
    deal(rep_b, 5000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(**FAST)
    return mine


def commit(person, period, scope=Scope.OWN):
    return ForecastRollup.objects.get(person=person, period=period, scope=scope).commit_amount


def test_request_recompute_coalesces_a_burst_into_one_pending_row_per_node(rep_a, period):
    for _ in range(5):
        requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk])

    assert RecomputeRequest.objects.filter(started_at__isnull=True).count() == 1


def test_a_deal_edit_reaches_the_rollups_through_the_debounced_task(
    settled, rep_a, manager_a, executive, period, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", tasks.run_recompute_requests)

    with django_capture_on_commit_callbacks(execute=True):
        deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(3000))

    assert commit(rep_a, period) == Decimal(3000)
    assert commit(manager_a, period, Scope.SUBTREE) == Decimal(3000)
    assert commit(executive, period, Scope.SUBTREE) == Decimal(8000)
    assert not RecomputeRequest.objects.filter(finished_at__isnull=True).exists()


def _values():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in ForecastRollup.objects.values()
    )


def test_incremental_recompute_leaves_the_rows_a_full_one_would(settled, rep_a, period):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(2500))
    requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk])
    requests.run_requests(request_ids=requests.claim_requests())
    incremental = _values()

    forecast_recompute_all(**FAST)

    assert _values() == incremental


def test_only_one_batch_is_in_flight_at_a_time(rep_a, rep_b, period):
    requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk])
    first = requests.claim_requests()
    requests.request_recompute(person_ids=[rep_b.pk, rep_a.pk], period_ids=[period.pk])

    assert requests.claim_requests() == []  # the first batch is still running
    requests.run_requests(request_ids=first)
    assert len(requests.claim_requests()) == 2


def test_a_batch_redelivered_after_its_worker_died_completes_and_changes_nothing_more(
    settled, rep_a, period
):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(4000))
    requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk])
    claimed = requests.claim_requests()
    # The worker dies here: rows are claimed, nothing is written. The broker redelivers.

    tasks.run_recompute_requests(claimed)
    once = _values()
    tasks.run_recompute_requests(claimed)

    assert commit(rep_a, period) == Decimal(4000)
    assert _values() == once


def test_reconciler_reenqueues_requests_started_but_never_finished(rep_a, period, monkeypatch):
    requests.request_recompute(person_ids=[rep_a.pk], period_ids=[period.pk])
    ids = requests.claim_requests()
    RecomputeRequest.objects.filter(pk__in=ids).update(
        started_at=timezone.now() - requests.STALE_AFTER - dt.timedelta(minutes=1)
    )
    sent = []
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", sent.append)
    monkeypatch.setattr(tasks.process_recompute_requests, "delay", lambda: None)

    assert tasks.reconcile_recomputes() == ids
    assert sent == [ids]
    assert tasks.reconcile_recomputes() == []  # clock restarted: not enqueued twice


def test_milestone_call_and_deal_changes_ask_for_a_recompute_of_owner_and_period(
    settled, rep_a, manager_a, period, django_capture_on_commit_callbacks, monkeypatch
):
    from accounts.models import Milestone
    from forecasting.services import calls

    monkeypatch.setattr(requests, "_schedule", lambda: None)  # keep the rows pending
    milestone = Milestone.objects.filter(stage__process=settled.process).first()

    with django_capture_on_commit_callbacks(execute=True):
        deal_services.milestone_complete(
            actor=rep_a, opportunity=settled, milestone=milestone, evidence="notes"
        )
        calls.call_submit(actor=manager_a, period=period, commit_amount=1, best_case_amount=1)

    pending = set(
        RecomputeRequest.objects.filter(started_at__isnull=True).values_list(
            "person_id", "period_id"
        )
    )
    assert pending == {(rep_a.pk, period.pk), (manager_a.pk, period.pk)}


def test_a_deal_moved_to_another_owner_recomputes_both_sides(
    settled,
    rep_a,
    rep_b,
    manager_a,
    manager_b,
    executive,
    period,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", tasks.run_recompute_requests)

    with django_capture_on_commit_callbacks(execute=True):
        deal_services.opportunity_update(actor=executive, opportunity=settled, owner=rep_b)

    assert (commit(rep_a, period), commit(rep_b, period)) == (Decimal(0), Decimal(6000))
    assert commit(manager_a, period, Scope.SUBTREE) == Decimal(0)
    assert commit(manager_b, period, Scope.SUBTREE) == Decimal(6000)


def test_an_edit_in_a_quarter_the_full_recompute_skips_writes_no_partial_rows(
    settled, rep_a, today, django_capture_on_commit_callbacks, monkeypatch
):
    # Given a deal closing about a year ahead: past the quarters a full recompute covers
    far = quarter(today + dt.timedelta(days=400))
    monkeypatch.setattr(tasks.run_recompute_requests, "delay", tasks.run_recompute_requests)

    # When the rep creates it and the incremental batch runs
    with django_capture_on_commit_callbacks(execute=True):
        deal(rep_a, 7000, close_on=far.start_on)

    # Then that quarter has no rows for the rep's chain alone (the full run writes none either)
    assert not ForecastRollup.objects.filter(period=far).exists()
    assert not RecomputeRequest.objects.filter(finished_at__isnull=True).exists()
