"""The rollups on the refresh path: coalescing, one batch in flight, redelivery, the sweep, and
every writer's change reaching the rollup (salesmgmt.refresh, forecasting.aggregate_kinds)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from accounts.models import Activity, Milestone
from forecasting.aggregate_kinds import KPIS, ROLLUPS, periods_containing, refresh_rollups
from forecasting.models import ForecastRollup, Scope
from forecasting.services import calls
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import refresh
from salesmgmt.models import StaleMark
from salesmgmt.refresh import runner
from tests.factories import AccountFactory, complete_closing_milestones
from tests.forecasting.conftest import pending_keys
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


def touched(day: dt.date) -> set[int]:
    """The periods an edit of a deal closing on ``day`` marks: its month, quarter and year."""
    ids = periods_containing([day])
    assert len(ids) == 3
    return ids


def _values():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in ForecastRollup.objects.values()
    )


def test_a_burst_of_changes_coalesces_into_one_pending_mark_per_node(rep_a, period, held):
    for _ in range(5):
        refresh.changed(people=[rep_a.pk], periods=[period.pk])

    assert pending_keys(ROLLUPS) == {(rep_a.pk, period.pk)}
    assert StaleMark.objects.filter(kind=ROLLUPS).count() == 1


def test_a_deal_edit_reaches_the_rollups_through_the_task_sent_on_commit(
    settled, rep_a, manager_a, executive, period, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(3000))

    assert commit(rep_a, period) == Decimal(3000)
    assert commit(manager_a, period, Scope.SUBTREE) == Decimal(3000)
    assert commit(executive, period, Scope.SUBTREE) == Decimal(8000)
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()


def test_incremental_recompute_leaves_the_rows_a_full_one_would(settled, rep_a, period, held):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(2500))
    assert refresh.refresh_kind(kind=ROLLUPS) == len(touched(settled.expected_close_on))
    incremental = _values()

    forecast_recompute_all(**FAST)

    assert _values() == incremental


def test_a_rollup_batch_marks_the_same_keys_of_the_kpis(
    settled, rep_a, period, held, django_capture_on_commit_callbacks
):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(2500))
    assert pending_keys(KPIS) == set()  # a deal is in no KPI key until its rollup ran

    with django_capture_on_commit_callbacks(execute=True):
        refresh.refresh_kind(kind=ROLLUPS)

    assert pending_keys(KPIS) == {(rep_a.pk, p) for p in touched(settled.expected_close_on)}
    assert held[-1] == KPIS


def test_only_one_batch_is_in_flight_at_a_time(rep_a, rep_b, period, held):
    refresh.changed(people=[rep_a.pk], periods=[period.pk])
    first, _ = runner._claim(kind=ROLLUPS, now=timezone.now())
    refresh.changed(people=[rep_b.pk, rep_a.pk], periods=[period.pk])

    assert refresh.refresh_kind(kind=ROLLUPS) == 0  # the first batch is still running
    StaleMark.objects.filter(pk__in=first).delete()  # ... and ends
    assert refresh.refresh_kind(kind=ROLLUPS) == 2


def test_a_batch_run_again_after_its_worker_died_completes_and_changes_nothing_more(
    settled, rep_a, period, held
):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(4000))
    _, keys = runner._claim(kind=ROLLUPS, now=timezone.now())
    # The worker dies here: marks are claimed, nothing is written. The broker redelivers.

    refresh_rollups(keys)
    once = _values()
    refresh_rollups(keys)

    assert commit(rep_a, period) == Decimal(4000)
    assert _values() == once


def test_the_sweep_runs_marks_claimed_but_never_finished_once(settled, rep_a, period, held):
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(4500))
    runner._claim(kind=ROLLUPS, now=timezone.now())
    StaleMark.objects.filter(kind=ROLLUPS).update(
        started_at=timezone.now() - runner.STALE_AFTER - dt.timedelta(minutes=1)
    )

    assert refresh.refresh_sweep()[ROLLUPS] == len(touched(settled.expected_close_on))
    assert commit(rep_a, period) == Decimal(4500)
    assert refresh.refresh_sweep()[ROLLUPS] == 0  # finished: not run twice


def test_milestone_call_and_deal_changes_mark_owner_and_period(
    settled, rep_a, manager_a, period, held, django_capture_on_commit_callbacks
):
    milestone = Milestone.objects.filter(stage__process=settled.process).first()

    deal_services.milestone_complete(
        actor=rep_a, opportunity=settled, milestone=milestone, evidence="notes"
    )
    calls.call_submit(actor=manager_a, period=period, commit_amount=1, best_case_amount=1)

    deal_keys = {(rep_a.pk, p) for p in touched(settled.expected_close_on)}
    assert pending_keys(ROLLUPS) == deal_keys | {(manager_a.pk, period.pk)}


def test_a_deal_moved_to_another_owner_recomputes_both_sides(
    settled,
    rep_a,
    rep_b,
    manager_a,
    manager_b,
    executive,
    period,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.opportunity_update(actor=executive, opportunity=settled, owner=rep_b)

    assert (commit(rep_a, period), commit(rep_b, period)) == (Decimal(0), Decimal(6000))
    assert commit(manager_a, period, Scope.SUBTREE) == Decimal(0)
    assert commit(manager_b, period, Scope.SUBTREE) == Decimal(6000)


def test_a_deal_moved_to_another_quarter_recomputes_both_quarters(settled, rep_a, period, held):
    later = quarter(period.end_on + dt.timedelta(days=1))
    deal_services.opportunity_update(
        actor=rep_a, opportunity=settled, expected_close_on=later.start_on
    )

    assert {(rep_a.pk, period.pk), (rep_a.pk, later.pk)} <= pending_keys(ROLLUPS)


def test_an_edit_in_a_far_quarter_writes_the_rows_the_full_recompute_writes(
    settled, rep_a, today, django_capture_on_commit_callbacks
):
    # Given a deal closing about a year ahead: a quarter that now has a deal
    far = quarter(today + dt.timedelta(days=400))

    # When the rep creates it and the incremental batch runs
    with django_capture_on_commit_callbacks(execute=True):
        deal_services.opportunity_create(
            actor=rep_a,
            account=AccountFactory(owner=rep_a),
            name="Far",
            amount=Decimal(7000),
            expected_close_on=far.start_on,
        )
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()
    incremental = {
        (r.person_id, r.scope): r.pipeline_amount for r in ForecastRollup.objects.filter(period=far)
    }
    assert incremental[(rep_a.pk, Scope.OWN)] == Decimal(7000)

    # Then the full recompute covers that quarter and leaves the rows as they were (the new
    # year's periods marked everyone's rows when they were created)
    forecast_recompute_all(**FAST)
    full = {
        (r.person_id, r.scope): r.pipeline_amount for r in ForecastRollup.objects.filter(period=far)
    }
    assert incremental == full


# --- every writer says what it changed ---------------------------------------------------------


def _create(ctx):
    deal_services.opportunity_create(
        actor=ctx.rep_a,
        account=ctx.deal.account,
        name="New",
        amount=Decimal(100),
        expected_close_on=ctx.close_on,
    )


def _amount(ctx):
    deal_services.opportunity_update(actor=ctx.rep_a, opportunity=ctx.deal, amount=Decimal(9))


def _category(ctx):
    deal_services.opportunity_update(
        actor=ctx.rep_a, opportunity=ctx.deal, forecast_category="best_case"
    )


def _reassign(ctx):
    deal_services.opportunity_update(actor=ctx.executive, opportunity=ctx.deal, owner=ctx.rep_b)


def _close_won(ctx):
    complete_closing_milestones(ctx.deal)
    deal_services.opportunity_close_won(
        actor=ctx.rep_a, opportunity=ctx.deal, closed_on=ctx.close_on
    )


def _close_lost(ctx):
    deal_services.opportunity_close_lost(
        actor=ctx.rep_a, opportunity=ctx.deal, lost_reason="Price", closed_on=ctx.close_on
    )


def _milestone(ctx):
    deal_services.milestone_complete(
        actor=ctx.rep_a, opportunity=ctx.deal, milestone=ctx.milestone, evidence="notes"
    )


def _undo_milestone(ctx):
    _milestone(ctx)
    StaleMark.objects.all().delete()
    deal_services.milestone_undo(actor=ctx.rep_a, opportunity=ctx.deal, milestone=ctx.milestone)


def _split(ctx):
    from compensation.services import credit_splits_set

    complete_closing_milestones(ctx.deal)
    deal_services.opportunity_close_won(
        actor=ctx.rep_a, opportunity=ctx.deal, closed_on=ctx.close_on
    )
    ctx.deal.refresh_from_db()
    StaleMark.objects.all().delete()
    credit_splits_set(
        actor=ctx.manager_a,
        opportunity=ctx.deal,
        splits=[(ctx.rep_a, Decimal(50)), (ctx.rep_b, Decimal(50))],
    )


def _call(ctx):
    calls.call_submit(actor=ctx.rep_a, period=ctx.period, commit_amount=1, best_case_amount=1)


def _quota(ctx):
    from territories.services import quota_update

    quota_update(actor=ctx.manager_a, person=ctx.rep_a, period=ctx.period, reason="Set", amount=500)


def _manager(ctx):
    from salesmgmt.services import user_set_manager

    user_set_manager(user=ctx.rep_a, manager=ctx.manager_b)


def _rate(ctx):
    from salesmgmt.services import exchange_rate_set

    exchange_rate_set(currency="EUR", rate_to_reporting=Decimal("1.2"), effective_on=ctx.today)


def _activity(ctx):
    deal_services.activity_log(actor=ctx.rep_a, kind=Activity.Kind.CALL, opportunity=ctx.deal)


WRITERS = {
    "deal created": (_create, ROLLUPS),
    "amount changed": (_amount, ROLLUPS),
    "category chosen": (_category, ROLLUPS),
    "deal reassigned": (_reassign, ROLLUPS),
    "deal won": (_close_won, ROLLUPS),
    "deal lost": (_close_lost, ROLLUPS),
    "milestone completed": (_milestone, ROLLUPS),
    "milestone undone": (_undo_milestone, ROLLUPS),
    "credit split": (_split, ROLLUPS),
    "call submitted": (_call, ROLLUPS),
    "quota changed": (_quota, ROLLUPS),
    "manager changed": (_manager, ROLLUPS),
    "exchange rate set": (_rate, ROLLUPS),
    "activity logged": (_activity, KPIS),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_each_writer_marks_the_owner_and_its_batch_rewrites_the_figures(
    writer,
    settled,
    rep_a,
    rep_b,
    manager_a,
    manager_b,
    executive,
    period,
    close_on,
    today,
    held,
    django_capture_on_commit_callbacks,
):
    # given the figures of the rep's quarter, computed before the write
    class Ctx:
        pass

    ctx = Ctx()
    ctx.__dict__.update(
        deal=settled,
        rep_a=rep_a,
        rep_b=rep_b,
        manager_a=manager_a,
        manager_b=manager_b,
        executive=executive,
        period=period,
        close_on=close_on,
        today=today,
        milestone=Milestone.objects.filter(stage__process=settled.process).first(),
    )
    write, kind = WRITERS[writer]
    rollup = ForecastRollup.objects.get(person=rep_a, period=period, scope=Scope.OWN)
    StaleMark.objects.all().delete()

    # when the writer runs and commits (its task not sent: the marks are all it leaves)
    with django_capture_on_commit_callbacks(execute=True):
        write(ctx)

    # then it marked the rep's quarter, and the kind's batch rewrites that figure
    assert (rep_a.pk, period.pk) in pending_keys(kind)
    assert kind in held  # its task would have been sent on commit
    assert refresh.refresh_kind(kind=kind, now=timezone.now() + dt.timedelta(hours=1)) >= 1
    assert not StaleMark.objects.filter(kind=kind).exists()
    if kind == ROLLUPS:
        rewritten = ForecastRollup.objects.get(person=rep_a, period=period, scope=Scope.OWN)
        assert rewritten.computed_at > rollup.computed_at
        assert (rep_a.pk, period.pk) in pending_keys(KPIS)  # the KPIs follow


def test_messages_of_the_old_request_tasks_run_the_kinds_batches(rep_a, period, held):
    from forecasting import tasks

    # given marks of both kinds, and messages the previous version queued before the deploy
    refresh.changed(people=[rep_a.pk], periods=[period.pk])
    refresh.mark_stale(kind=KPIS, keys=[(rep_a.pk, period.pk)])

    # then each old task name runs its kind's batch, and a second message finds nothing
    assert tasks.run_recompute_requests([1, 2]) == 1
    assert tasks.process_recompute_requests() == 0
    assert tasks.process_kpi_requests() == 1
    assert tasks.run_kpi_requests([3]) == 0
    assert not StaleMark.objects.filter(kind__in=[ROLLUPS, KPIS]).exists()


# --- one load and one scoring a batch ----------------------------------------------------------


def test_a_batch_scores_its_deals_once_for_all_its_periods_and_writes_what_a_full_run_writes(
    settled, rep_a, rep_b, stages, period, held, monkeypatch
):
    # Given edits that mark two people's month, quarter and year, and the next quarter's
    later = quarter(period.end_on + dt.timedelta(days=1))
    deal(rep_a, 700, close_on=later.start_on, stage=stages["Negotiate"])
    deal_services.opportunity_update(actor=rep_a, opportunity=settled, amount=Decimal(2500))
    refresh.changed(people=[rep_b.pk], periods=list(touched(later.start_on)))
    from forecasting.services import recompute

    scorings: list[int] = []
    score_deals = recompute.score_deals
    monkeypatch.setattr(
        recompute,
        "score_deals",
        lambda deals, *a: scorings.append(len(deals)) or score_deals(deals, *a),
    )

    # When the batch runs
    assert refresh.refresh_kind(kind=ROLLUPS) >= 6
    incremental = _values()

    # Then its deals were scored in one go (both reps' deals of every period it recomputed)
    assert scorings == [3]
    # And it left the rows a full run leaves
    forecast_recompute_all(**FAST)
    assert _values() == incremental


def test_a_periods_share_of_the_batch_scores_is_the_deals_the_period_counts(
    rep_a, rep_b, stages, period, today
):
    from forecasting.services.context import Context
    from forecasting.services.recompute import people_scores, scores_in_period

    later = quarter(period.end_on + dt.timedelta(days=1))
    on_last_day = deal(rep_a, 100, close_on=period.end_on, stage=stages["Negotiate"])
    next_quarter = deal(rep_a, 200, close_on=later.start_on, stage=stages["Negotiate"])
    # Won in this quarter though it was expected in the next: it counts where it closed.
    won_early = deal(rep_a, 300, close_on=later.start_on, status="won", stage=stages["Negotiate"])
    won_early.closed_on = max(today, period.start_on)
    won_early.save(update_fields=["closed_on"])
    others = deal(rep_b, 400, close_on=period.end_on, stage=stages["Negotiate"])

    scored = people_scores(
        periods=[period, later], ctx=Context.load(), owner_ids=[rep_a.pk, rep_b.pk]
    )

    def ids(frame):
        return set(frame["opportunity_id"])

    assert ids(scores_in_period(scored, period, owner_ids=[rep_a.pk])) == {
        on_last_day.pk,
        won_early.pk,
    }
    assert ids(scores_in_period(scored, later, owner_ids=[rep_a.pk])) == {next_quarter.pk}
    assert ids(scores_in_period(scored, period, owner_ids=[rep_b.pk])) == {others.pk}
    assert set(scores_in_period(scored, later, owner_ids=[rep_a.pk])["period_id"]) == {later.pk}
