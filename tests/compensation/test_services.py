"""Payout runs, credit, clawbacks, approval and locking, adjustments, disputes, what-if."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation import selectors, services
from compensation.engine import LineKind
from compensation.models import (
    ComponentKind,
    PayoutRun,
    Statement,
    StatementLine,
)
from compensation.selectors import HypotheticalDeal, whatif
from compensation.tasks import run_payouts
from salesmgmt.errors import ApplicationError, ConflictError, PermissionDeniedError
from salesmgmt.models import Role
from salesmgmt.selectors import period_current
from tests.compensation.factories import (
    PlanAssignmentFactory,
    PlanFactory,
    component,
    quota,
    won_deal,
)
from tests.factories import AccountFactory, OpportunityFactory

D = Decimal


@pytest.fixture
def booked(process, plan, quotas, rep_a, rep_b):
    """rep_a: 145k then 20k in Q1 (the issue's boundary example); rep_b: 30k."""
    return {
        "big": won_deal(rep_a, "145000", dt.date(2026, 1, 20), name="Big rollout"),
        "small": won_deal(rep_a, "20000", dt.date(2026, 2, 1), name="Add-on"),
        "b": won_deal(rep_b, "30000", dt.date(2026, 2, 3), name="Bravo"),
    }


def statement_of(run, rep) -> Statement:
    return run.statements.get(rep=rep)


def amounts(statement) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in statement.lines.order_by("position")]


def process_run(period, actor) -> PayoutRun:
    run = services.payout_run_compute(period=period, actor=actor)
    return services.payout_run_process(run=run, actor=actor)


# --- runs ----------------------------------------------------------------------------------


def test_run_pays_each_rep_with_explained_lines(booked, q1, rep_a, executive):
    run = services.payout_run_compute(period=q1, actor=executive)

    statement = statement_of(run, rep_a)
    assert amounts(statement) == [
        (LineKind.COMMISSION, D("8600.00")),  # 75k x 4% + 70k x 8%
        (LineKind.COMMISSION, D("2200.00")),  # 5k x 8% + 15k x 12%
        (LineKind.BONUS, D("1000.00")),
        (LineKind.COMPLIANCE, D("0.00")),  # no open deals: score 100%
    ]
    assert statement.total_amount == D("11800.00")
    assert statement.bookings_amount == D("165000.00")
    assert statement.attainment == D("1.1")
    assert statement.quota_amount == D("150000.00")
    line = statement.lines.get(position=2)
    assert line.opportunity == booked["small"]
    assert line.component.name == "Commission"
    assert "5,000.00 at 8%" in line.explanation
    assert line.inputs["credited_amount"] == "20000.00"


def test_lines_sum_to_the_statement_total(booked, q1, executive):
    run = services.payout_run_compute(period=q1, actor=executive)

    for statement in run.statements.all():
        assert sum(line.amount for line in statement.lines.all()) == statement.total_amount


def test_recompute_is_idempotent(booked, q1, rep_a, executive):
    run = services.payout_run_compute(period=q1, actor=executive)
    first = list(StatementLine.objects.order_by("pk").values_list("pk", "amount", "explanation"))

    again = services.payout_run_compute(period=q1, actor=executive)

    assert again.pk == run.pk
    assert (
        list(StatementLine.objects.order_by("pk").values_list("pk", "amount", "explanation"))
        == first
    )


def test_recompute_after_a_change_rebuilds_the_same_lines_a_fresh_run_would(
    booked, q1, rep_a, executive
):
    services.payout_run_compute(period=q1, actor=executive)
    won_deal(rep_a, "10000", dt.date(2026, 3, 1))

    run = services.payout_run_compute(period=q1, actor=executive)

    fresh = whatif(rep=rep_a, period=q1)  # the engine over the same data, from scratch
    assert amounts(statement_of(run, rep_a)) == [(line.kind, line.amount) for line in fresh.lines]
    assert statement_of(run, rep_a).total_amount == D("11800.00") + D("1200.00")
    assert PayoutRun.objects.filter(period=q1).count() == 1


def test_task_computes_the_draft_run(booked, q1, rep_a):
    run_id = run_payouts.delay(q1.pk).get()

    run = PayoutRun.objects.get(pk=run_id)
    assert run.is_draft
    assert statement_of(run, rep_a).total_amount == D("11800.00")
    assert run_payouts.delay(q1.pk).get() == run_id


def test_only_executives_and_admins_run_payouts(booked, q1, manager_a):
    with pytest.raises(PermissionDeniedError):
        services.payout_run_compute(period=q1, actor=manager_a)


def test_processed_run_is_a_snapshot_and_changes_go_to_a_new_run(booked, q1, rep_a, executive):
    run = process_run(q1, executive)
    assert statement_of(run, rep_a).status == Statement.Status.PROCESSED

    won_deal(rep_a, "10000", dt.date(2026, 3, 1))
    new = services.payout_run_compute(period=q1, actor=executive)

    assert new.pk != run.pk
    assert statement_of(run, rep_a).total_amount == D("11800.00")
    assert statement_of(new, rep_a).total_amount == D("11800.00") + D("1200.00")
    with pytest.raises(ConflictError):
        services.payout_run_process(run=run, actor=executive)


# --- approval, locking, adjustments ---------------------------------------------------------


def test_manager_approval_locks_the_statement(booked, q1, rep_a, manager_a, executive):
    statement = statement_of(process_run(q1, executive), rep_a)

    services.statement_approve(actor=manager_a, statement=statement)

    statement.refresh_from_db()
    assert statement.is_locked
    assert statement.approved_by == manager_a
    with pytest.raises(ConflictError):
        services.statement_approve(actor=manager_a, statement=statement)


@pytest.mark.parametrize("who", ["rep_a", "manager_b", "se_a"])
def test_only_the_reps_managers_approve(booked, q1, rep_a, executive, personas, who):
    statement = statement_of(process_run(q1, executive), rep_a)

    with pytest.raises(PermissionDeniedError):
        services.statement_approve(actor=personas[who], statement=statement)


def test_draft_statements_cannot_be_approved(booked, q1, rep_a, manager_a, executive):
    statement = statement_of(services.payout_run_compute(period=q1, actor=executive), rep_a)

    with pytest.raises(ApplicationError, match="draft"):
        services.statement_approve(actor=manager_a, statement=statement)


def test_locked_statement_changes_only_through_adjustments(
    booked, q1, rep_a, rep_b, manager_a, executive
):
    run = process_run(q1, executive)
    locked = statement_of(run, rep_a)
    services.statement_approve(actor=manager_a, statement=locked)
    won_deal(rep_a, "10000", dt.date(2026, 3, 1))

    new = services.payout_run_compute(period=q1, actor=executive)

    # the locked rep is left out of the new run; others are recomputed
    assert not new.statements.filter(rep=rep_a).exists()
    assert new.statements.filter(rep=rep_b).exists()
    adjustment = services.statement_adjustment_add(
        actor=manager_a, statement=locked, amount=D("1200"), reason="Late deal from March"
    )
    assert adjustment.amount == D("1200.00")
    assert selectors.statement_get(viewer=manager_a, pk=locked.pk).adjustments_amount == D(
        "1200.00"
    )
    locked.refresh_from_db()
    assert locked.total_amount == D("11800.00")


def test_adjustments_need_a_locked_statement_and_a_reason(booked, q1, rep_a, manager_a, executive):
    statement = statement_of(process_run(q1, executive), rep_a)
    with pytest.raises(ApplicationError, match="locked"):
        services.statement_adjustment_add(
            actor=manager_a, statement=statement, amount=D(1), reason="x"
        )
    services.statement_approve(actor=manager_a, statement=statement)
    with pytest.raises(ValidationError):
        services.statement_adjustment_add(
            actor=manager_a, statement=statement, amount=D(5), reason="  "
        )


def test_payroll_rows_pay_the_locked_statement_plus_adjustments(
    booked, q1, rep_a, rep_b, manager_a, executive
):
    statement = statement_of(process_run(q1, executive), rep_a)
    services.statement_approve(actor=manager_a, statement=statement)
    services.statement_adjustment_add(
        actor=manager_a, statement=statement, amount=D("-100"), reason="Duplicate SPIF"
    )
    process_run(q1, executive)  # a later run for the others

    rows = {
        row.statement.rep_id: row for row in selectors.payroll_rows(viewer=executive, period=q1)
    }

    assert rows[rep_a.pk].statement.pk == statement.pk
    assert rows[rep_a.pk].payable_amount == D("11700.00")
    assert rows[rep_b.pk].payable_amount == D("1200.00")  # 30k x 4%


# --- disputes ------------------------------------------------------------------------------


def test_rep_disputes_a_line_and_the_manager_resolves_it(booked, q1, rep_a, manager_a, executive):
    line = statement_of(process_run(q1, executive), rep_a).lines.first()

    dispute = services.dispute_raise(actor=rep_a, line=line, text="The deal was 150k")
    with pytest.raises(ConflictError):
        services.dispute_raise(actor=rep_a, line=line, text="Again")
    services.dispute_resolve(actor=manager_a, dispute=dispute, note="Checked: 145k in the CRM")

    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolved_by) == ("resolved", manager_a)


def test_disputes_are_for_the_rep_and_resolved_by_their_managers(
    booked, q1, rep_a, rep_b, manager_b, executive
):
    line = statement_of(process_run(q1, executive), rep_a).lines.first()
    with pytest.raises(PermissionDeniedError):
        services.dispute_raise(actor=rep_b, line=line, text="Not mine")
    dispute = services.dispute_raise(actor=rep_a, line=line, text="Wrong rate")
    with pytest.raises(PermissionDeniedError):
        services.dispute_resolve(actor=manager_b, dispute=dispute, note="No")
    with pytest.raises(ValidationError):
        services.dispute_resolve(actor=executive, dispute=dispute, note=" ")


def test_draft_lines_cannot_be_disputed(booked, q1, rep_a, executive):
    line = statement_of(
        services.payout_run_compute(period=q1, actor=executive), rep_a
    ).lines.first()

    with pytest.raises(ApplicationError, match="draft"):
        services.dispute_raise(actor=rep_a, line=line, text="Too early")


# --- clawbacks -----------------------------------------------------------------------------


def test_cancelled_deal_is_clawed_back_in_the_next_open_period(
    booked, q1, q2, rep_a, manager_a, executive
):
    original = statement_of(process_run(q1, executive), rep_a).lines.get(
        opportunity=booked["small"]
    )
    services.deal_cancellation_record(
        actor=manager_a,
        opportunity=booked["small"],
        cancelled_on=dt.date(2026, 4, 10),
        reason="Customer went bankrupt",
    )

    q2_run = process_run(q2, executive)

    reversal = statement_of(q2_run, rep_a).lines.get(kind=LineKind.CLAWBACK)
    assert reversal.amount == -original.amount == D("-2200.00")
    assert reversal.linked_line == original
    assert reversal.opportunity == booked["small"]
    assert "within the 90-day window" in reversal.explanation
    # reversed once: the next period has nothing left to claw back
    q3 = q2.__class__.objects.get(name="FY2026 Q3")
    q3_run = services.payout_run_compute(period=q3, actor=executive)
    assert not StatementLine.objects.filter(statement__run=q3_run, kind=LineKind.CLAWBACK).exists()


def test_cancellation_after_the_window_keeps_the_pay(booked, q1, q2, rep_a, manager_a, executive):
    process_run(q1, executive)
    services.deal_cancellation_record(
        actor=manager_a,
        opportunity=booked["big"],
        cancelled_on=dt.date(2026, 5, 1),
        reason="Churned",
    )  # closed Jan 20: 101 days later

    run = services.payout_run_compute(period=q2, actor=executive)

    assert not StatementLine.objects.filter(statement__run=run, kind=LineKind.CLAWBACK).exists()


def test_cancellation_needs_a_won_deal_and_a_manager(booked, rep_a, manager_a):
    with pytest.raises(PermissionDeniedError):
        services.deal_cancellation_record(
            actor=rep_a, opportunity=booked["big"], cancelled_on=dt.date(2026, 2, 1), reason="x"
        )
    with pytest.raises(ValidationError):
        services.deal_cancellation_record(
            actor=manager_a,
            opportunity=booked["big"],
            cancelled_on=dt.date(2025, 2, 1),
            reason="before it closed",
        )


# --- credit --------------------------------------------------------------------------------


def test_credit_splits_share_the_deal_and_must_sum_to_100(
    booked, q1, rep_a, se_a, manager_a, executive
):
    deal = booked["small"]
    with pytest.raises(ValidationError, match="100"):
        services.credit_splits_set(
            actor=manager_a, opportunity=deal, splits=[(rep_a, D(60)), (se_a, D(30))]
        )
    assert not deal.credit_splits.exists()  # all or nothing

    services.credit_splits_set(
        actor=manager_a, opportunity=deal, splits=[(rep_a, D("60")), (se_a, D("40"))]
    )
    run = services.payout_run_compute(period=q1, actor=executive)

    assert statement_of(run, rep_a).bookings_amount == D("145000") + D("12000")
    se_line = statement_of(run, se_a).lines.get(opportunity=deal)
    assert se_line.inputs["credited_amount"] == "8000.00"
    assert "split 40%" in se_line.explanation


def test_only_managers_split_credit(booked, rep_a, se_a):
    with pytest.raises(PermissionDeniedError):
        services.credit_splits_set(actor=rep_a, opportunity=booked["big"], splits=[(se_a, D(100))])


def test_manager_overlay_credit_covers_the_subtree(booked, q1, rep_a, se_a, manager_a, executive):
    overlay = PlanFactory(name="Manager plan", manager_overlay_credit=True)
    component(
        overlay, ComponentKind.COMMISSION, {"tiers": [{"from_percent": "0", "rate_percent": "1"}]}
    )
    PlanAssignmentFactory(plan=overlay, role=Role.MANAGER)
    quota(manager_a, q1, "500000")
    won_deal(se_a, "5000", dt.date(2026, 3, 3))

    run = services.payout_run_compute(period=q1, actor=executive)

    statement = statement_of(run, manager_a)
    assert statement.bookings_amount == D("170000.00")  # rep_a 165k + se_a 5k, not rep_b
    assert statement.total_amount == D("1700.00")
    assert "overlay for" in statement.lines.first().explanation


def test_a_persons_own_assignment_wins_over_their_role(booked, q1, rep_a, executive):
    special = PlanFactory(name="Special")
    component(special, ComponentKind.THRESHOLD_BONUS, {"threshold_percent": "0", "amount": "7"})
    PlanAssignmentFactory(plan=special, user=rep_a)

    run = services.payout_run_compute(period=q1, actor=executive)

    assert statement_of(run, rep_a).plan == special
    assert statement_of(run, rep_a).total_amount == D("7.00")


def test_new_logo_spif_pays_first_won_deal_of_an_account(
    process, plan, quotas, q1, rep_a, executive
):
    component(
        plan,
        ComponentKind.SPIF,
        {"fixed_amount": "500", "new_logo_only": True},
        name="New logo",
        effective_from=dt.date(2026, 1, 1),
        effective_to=dt.date(2026, 4, 1),
    )
    account = AccountFactory(owner=rep_a)
    first = won_deal(rep_a, "1000", dt.date(2026, 1, 5), account=account)
    won_deal(rep_a, "1000", dt.date(2026, 2, 5), account=account)

    run = services.payout_run_compute(period=q1, actor=executive)

    spifs = statement_of(run, rep_a).lines.filter(kind=LineKind.SPIF)
    assert [(line.opportunity_id, line.amount) for line in spifs] == [(first.pk, D("500.00"))]


# --- what-if -------------------------------------------------------------------------------


def test_whatif_without_deals_equals_the_real_run(booked, q1, rep_a, executive):
    run = services.payout_run_compute(period=q1, actor=executive)
    real = statement_of(run, rep_a)

    result = whatif(rep=rep_a, period=q1, deals=[])

    assert [(line.kind, line.amount, line.explanation) for line in result.lines] == [
        (line.kind, line.amount, line.explanation) for line in real.lines.order_by("position")
    ]
    assert result.total == real.total_amount


def test_whatif_adds_hypothetical_deals_through_the_same_engine(booked, q1, rep_a):
    base = whatif(rep=rep_a, period=q1)

    result = whatif(
        rep=rep_a,
        period=q1,
        deals=[HypotheticalDeal(name="Big one", amount=D(10000), closed_on=dt.date(2026, 3, 30))],
    )

    assert result.total - base.total == D("1200.00")  # above 100%: 12%
    assert "(what-if)" in result.lines[2].explanation


def test_whatif_for_someone_without_a_plan_is_refused(booked, q1, executive):
    with pytest.raises(ApplicationError, match="not on a compensation plan"):
        whatif(rep=executive, period=q1)


# --- compliance kicker, plan terms, the nightly task ---------------------------------------


def test_poor_documentation_scales_the_period_payout(booked, q1, rep_a, executive):
    # Given an open deal with no next step and no recent activity at the end of Q1
    # (score 0% -> band below 75% -> x 0.9)
    OpportunityFactory(
        owner=rep_a,
        next_step="",
        expected_close_on=dt.date(2026, 6, 1),
        created_at=timezone.make_aware(dt.datetime(2026, 1, 5, 9)),
    )

    statement = statement_of(services.payout_run_compute(period=q1, actor=executive), rep_a)

    line = statement.lines.get(kind=LineKind.COMPLIANCE)
    assert statement.compliance_score == 0
    assert line.amount == D("-1180.00")  # 11,800.00 earned x (0.9 - 1)
    assert statement.total_amount == D("10620.00")
    assert "0% is in the band from 0%" in line.explanation


@pytest.mark.parametrize(
    ("kind", "parameters", "message"),
    [
        ("commission", {"tiers": []}, "at least one tier"),
        ("commission", {"tiers": [{"from_percent": "10", "rate_percent": "4"}]}, "start at 0%"),
        ("commission", {"tiers": [{"from_percent": "0", "rate_percent": "x"}]}, "number"),
        (
            "commission",
            {"tiers": [{"from_percent": "0", "rate_percent": "4"}], "decelerator_factor": "0.5"},
            "decelerator",
        ),
        ("spif", {"fixed_amount": "0"}, "fixed amount or a percentage"),
        ("compliance", {"bands": []}, "at least one band"),
        ("threshold_bonus", {"amount": "5"}, "threshold_percent"),
    ],
)
def test_component_terms_are_validated(plan, kind, parameters, message):
    with pytest.raises(ValidationError, match=message):
        component(plan, kind, parameters)


def test_nightly_task_recomputes_the_current_quarters_draft(plan, quotas, executive):
    from compensation.tasks import run_current_payouts

    run_id = run_current_payouts.delay().get()

    run = PayoutRun.objects.get(pk=run_id)
    assert run.period == period_current()
    assert run.is_draft


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    booked=st.lists(
        st.tuples(
            st.decimals(min_value=D("0.01"), max_value=D("200000"), places=2),
            st.integers(min_value=0, max_value=89),
        ),
        max_size=5,
    )
)
def test_whatif_equals_the_real_run_on_the_same_data(
    process, plan, quotas, q1, rep_a, executive, booked
):
    with transaction.atomic():
        for amount, day in booked:
            won_deal(rep_a, str(amount), q1.start_on + dt.timedelta(days=day))
        run = services.payout_run_compute(period=q1, actor=executive)
        statement = run.statements.filter(rep=rep_a).first()

        result = whatif(rep=rep_a, period=q1)

        assert [(line.kind, line.amount, line.explanation) for line in result.lines] == [
            (line.kind, line.amount, line.explanation)
            for line in (statement.lines.order_by("position") if statement else [])
        ]
        assert result.total == statement.total_amount == sum(line.amount for line in result.lines)
        transaction.set_rollback(True)
