"""The KPIs on the refresh path: marks coalesce per person and period, one batch per window,
the same rows a full recompute writes, and batches that are safe to run again or sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from accounts.models import Activity, Opportunity
from forecasting import aggregate_kinds
from forecasting.aggregate_kinds import KPIS, ROLLUPS, refresh_kpis
from forecasting.models import KpiSnapshot, Scope
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import refresh
from salesmgmt import tasks as core_tasks
from salesmgmt.models import StaleMark
from salesmgmt.refresh import runner
from salesmgmt.refresh import tasks as refresh_tasks
from tests.forecasting.conftest import pending_keys
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
    forecast_recompute_all()
    return mine


@pytest.fixture
def computations(monkeypatch):
    """Every KPI computation the batches run, as (people, periods)."""
    calls: list[tuple[list[int], list[int]]] = []
    real = aggregate_kinds.kpis_recompute_for_people

    def counting(*, person_ids, period_ids):
        calls.append((list(person_ids), list(period_ids)))
        return real(person_ids=person_ids, period_ids=period_ids)

    monkeypatch.setattr(aggregate_kinds, "kpis_recompute_for_people", counting)
    return calls


def kpi_pipeline(person, period, scope=Scope.OWN) -> Decimal:
    return KpiSnapshot.objects.get(person=person, period=period, scope=scope).pipeline_amount


def _kpi_values():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in KpiSnapshot.objects.values()
    )


def _today() -> dt.date:
    return timezone.localdate()


def _log_call(rep) -> Activity:
    deal_of_rep = Opportunity.objects.filter(owner=rep).first()
    return deal_services.activity_log(actor=rep, kind=Activity.Kind.CALL, opportunity=deal_of_rep)


def test_a_burst_of_marks_leaves_one_pending_mark_per_person_and_period(
    rep_a, rep_b, period, window, held
):
    for _ in range(20):
        refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk), (rep_b.pk, period.pk)])

    assert StaleMark.objects.filter(kind=KPIS, started_at__isnull=True).count() == 2


def test_nothing_is_claimed_before_the_oldest_mark_has_waited_its_window(
    rep_a, period, window, held
):
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])

    assert refresh.refresh_kind(kind=KPIS) == 0
    assert core_tasks.refresh_aggregate(KPIS) == 0  # a task sent early is a no-op
    assert refresh.refresh_kind(kind=KPIS, now=timezone.now() + window) == 1


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
    # given the rollup batches run at once and the KPI task is sent (early: a no-op), and no
    # marks left by the fixtures' writes
    StaleMark.objects.all().delete()
    sent = []
    real_send = refresh_tasks.batch_send

    def send(*, kind):
        sent.append(kind)
        return real_send(kind=kind)

    monkeypatch.setattr(refresh_tasks, "batch_send", send)

    # when both reps edit deals and log activities, several times each
    with django_capture_on_commit_callbacks(execute=True):
        for amount in (1500, 2500, 3500):
            deal_services.opportunity_update(
                actor=rep_a, opportunity=settled, amount=Decimal(amount)
            )
            _log_call(rep_b)
            _log_call(rep_a)

    # then the marks coalesced, and one batch after the window runs them in one computation
    assert computations == []
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()
    # (the month, quarter and year of the close date and of today's activities)
    touched = sorted(aggregate_kinds.periods_containing([settled.expected_close_on, _today()]))
    assert period.pk in touched
    assert pending_keys(KPIS) == {(rep, p) for rep in (rep_a.pk, rep_b.pk) for p in touched}
    assert KPIS in sent  # each mark sends a (cheap) debounced task
    assert refresh.refresh_kind(kind=KPIS, now=timezone.now() + window) == 2 * len(touched)
    assert computations == [(sorted([rep_a.pk, rep_b.pk]), touched)]
    assert not StaleMark.objects.filter(kind=KPIS).exists()


def test_the_batch_leaves_the_kpi_rows_a_full_recompute_would(
    settled, rep_a, manager_a, period, window, held
):
    # given a deal edit whose rollups are already applied and whose KPIs are pending
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(4200))
    _log_call(rep_a)
    refresh.refresh_kind(kind=ROLLUPS)
    assert refresh.refresh_kind(kind=KPIS) == 0  # not yet: KPIs wait for their window
    assert kpi_pipeline(rep_a, period) == Decimal(1000)

    # when the KPI batch runs
    refresh.refresh_kind(kind=KPIS, now=timezone.now() + window)

    # then its rows are the full recompute's
    assert kpi_pipeline(rep_a, period) == Decimal(4200)
    assert kpi_pipeline(manager_a, period, Scope.SUBTREE) >= Decimal(4200)
    incremental = _kpi_values()
    forecast_recompute_all()
    assert _kpi_values() == incremental


def test_only_one_kpi_batch_is_in_flight_and_a_run_again_changes_nothing_more(
    settled, rep_a, rep_b, period, window, held
):
    later = timezone.now() + window
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])
    first, keys = runner._claim(kind=KPIS, now=later)
    refresh.mark_stale(kind=KPIS, keys=[(rep_b.pk, period.pk)])

    assert refresh.refresh_kind(kind=KPIS, now=later + window) == 0  # the first is in flight
    refresh_kpis(keys)
    once = _kpi_values()
    refresh_kpis(keys)  # the broker redelivers it after a lost ack
    assert _kpi_values() == once
    StaleMark.objects.filter(pk__in=first).delete()  # the first batch ends
    assert refresh.refresh_kind(kind=KPIS, now=later + window) == 1


def test_marks_arriving_during_a_batch_get_a_task_for_when_they_are_due(
    rep_a, rep_b, period, window, monkeypatch, django_capture_on_commit_callbacks
):
    def batch_while_rep_b_writes(*, person_ids, period_ids):
        refresh.mark_stale(kind=KPIS, keys=[(rep_b.pk, period.pk)])
        return 0

    monkeypatch.setattr(aggregate_kinds, "kpis_recompute_for_people", batch_while_rep_b_writes)
    countdowns = []
    monkeypatch.setattr(
        refresh_tasks,
        "enqueue",
        lambda task, **options: countdowns.append(options.get("countdown")),
    )
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])
    StaleMark.objects.update(requested_at=timezone.now() - window)  # rep_a's mark is due

    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_tasks.refresh_aggregate(KPIS) == 1

    assert pending_keys(KPIS) == {(rep_b.pk, period.pk)}
    assert countdowns
    assert all(0 < countdown <= WINDOW for countdown in countdowns)


def test_the_sweep_runs_kpi_marks_claimed_but_never_finished_once(
    settled, rep_a, period, window, held
):
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])
    runner._claim(kind=KPIS, now=timezone.now() + window)
    StaleMark.objects.filter(kind=KPIS).update(
        started_at=timezone.now() - runner.STALE_AFTER - dt.timedelta(minutes=1)
    )

    assert refresh.refresh_sweep()[KPIS] == 1
    assert refresh.refresh_sweep()[KPIS] == 0  # finished: not run twice


def test_a_stale_claim_does_not_block_the_next_batch(rep_a, rep_b, period, window, held):
    later = timezone.now() + window
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])
    runner._claim(kind=KPIS, now=later)
    refresh.mark_stale(kind=KPIS, keys=[(rep_b.pk, period.pk)])

    # the worker holding the first claim died; after STALE_AFTER the next claim goes ahead,
    # taking the abandoned key again with the new one
    claimed, keys = runner._claim(kind=KPIS, now=later + runner.STALE_AFTER + window)

    assert claimed
    assert keys == sorted([(rep_a.pk, period.pk), (rep_b.pk, period.pk)])


def test_an_activity_marks_kpis_only_in_the_period_it_happened(
    settled, rep_a, period, window, held
):
    StaleMark.objects.all().delete()

    _log_call(rep_a)

    # its month, quarter and year
    touched = aggregate_kinds.periods_containing([_today()])
    assert period.pk in touched
    assert len(touched) == 3
    assert pending_keys(KPIS) == {(rep_a.pk, p) for p in touched}
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()  # activities are in no rollup
