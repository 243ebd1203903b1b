"""Reads of the compensation app, scoped by the visibility policy (a miss is a 404)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Opportunity
from salesmgmt.errors import ApplicationError
from salesmgmt.models import Period, User

from . import engine
from .inputs import payout_inputs
from .models import (
    CreditSplit,
    DealCancellation,
    Dispute,
    PayoutRun,
    Plan,
    PlanAssignment,
    PlanComponent,
    Statement,
    StatementAdjustment,
    StatementLine,
)

ZERO_MONEY = Value(Decimal("0.00"), output_field=DecimalField(max_digits=16, decimal_places=2))


class StatementCounts(TypedDict):
    """What ``statement_list`` annotates on each statement."""

    adjustments_amount: Decimal
    open_dispute_count: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    CountedStatement = WithAnnotations[Statement, StatementCounts]


def statement_list(
    *, viewer: User, period: Period | None = None, rep_id: int | None = None
) -> QuerySet[CountedStatement]:
    """Statements ``viewer`` may see, newest first, with adjustments and open disputes counted."""
    qs = (
        Statement.objects.visible_to(viewer)
        .select_related("run__period", "rep", "plan", "approved_by")
        .annotate(
            # Subqueries, not joins: two joined to-many sums would multiply each other.
            adjustments_amount=Coalesce(
                Subquery(
                    StatementAdjustment.objects.filter(statement=OuterRef("pk"))
                    .values("statement")
                    .annotate(total=Sum("amount"))
                    .values("total")
                ),
                ZERO_MONEY,
            ),
            open_dispute_count=Coalesce(
                Subquery(
                    Dispute.objects.filter(
                        line__statement=OuterRef("pk"), status=Dispute.Status.OPEN
                    )
                    .values("line__statement")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                0,
            ),
        )
    )
    if period is not None:
        qs = qs.filter(run__period=period)
    if rep_id is not None:
        qs = qs.filter(rep_id=rep_id)
    return qs.order_by("-run__period__start_on", "-run_id", "rep__last_name", "rep_id")


def statement_get(*, viewer: User, pk: int) -> Statement:
    try:
        return statement_list(viewer=viewer).get(pk=pk)
    except Statement.DoesNotExist:
        raise Http404("No such statement.") from None


def statement_lines(*, statement: Statement) -> list[StatementLine]:
    """The statement's lines in order, each with its deal, component and disputes (2 queries)."""
    return list(
        statement.lines.select_related("opportunity", "component", "linked_line__statement")
        .prefetch_related(
            Prefetch(
                "disputes", queryset=Dispute.objects.select_related("raised_by", "resolved_by")
            )
        )
        .order_by("position")
    )


def statement_adjustments(*, statement: Statement) -> list[StatementAdjustment]:
    return list(statement.adjustments.select_related("created_by").order_by("created_at", "id"))


def line_get(*, viewer: User, pk: int) -> StatementLine:
    try:
        return StatementLine.objects.select_related("statement__rep", "statement__run").get(
            pk=pk, statement__in=Statement.objects.visible_to(viewer).values("pk")
        )
    except StatementLine.DoesNotExist:
        raise Http404("No such statement line.") from None


def dispute_list(*, viewer: User, status: str | None = None) -> QuerySet[Dispute]:
    qs = Dispute.objects.filter(
        line__statement__in=Statement.objects.visible_to(viewer).values("pk")
    ).select_related(
        "line__statement__rep",
        "line__statement__run__period",
        "line__opportunity",
        "raised_by",
        "resolved_by",
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "created_at", "id")


def dispute_get(*, viewer: User, pk: int) -> Dispute:
    try:
        return dispute_list(viewer=viewer).get(pk=pk)
    except Dispute.DoesNotExist:
        raise Http404("No such dispute.") from None


def plan_list() -> QuerySet[Plan]:
    """Every plan with its components and assignments (3 queries); plans are public terms."""
    return Plan.objects.prefetch_related(
        Prefetch("components", queryset=PlanComponent.objects.order_by("order", "id")),
        Prefetch(
            "assignments",
            queryset=PlanAssignment.objects.select_related("user").order_by("effective_from", "id"),
        ),
    ).order_by("name", "id")


def period_list() -> QuerySet[Period]:
    return Period.objects.order_by("-start_on", "kind")


def run_list(*, period: Period) -> list[PayoutRun]:
    return list(PayoutRun.objects.filter(period=period).order_by("-created_at", "-id"))


def run_get(*, pk: int) -> PayoutRun:
    try:
        return PayoutRun.objects.select_related("period").get(pk=pk)
    except PayoutRun.DoesNotExist:
        raise Http404("No such payout run.") from None


# --- payroll ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayrollRow:
    statement: Statement
    adjustments_amount: Decimal

    @property
    def payable_amount(self) -> Decimal:
        return self.statement.total_amount + self.adjustments_amount


def payroll_rows(*, viewer: User, period: Period) -> list[PayrollRow]:
    """Per person, their statement of the period's latest processed run that includes them.

    Locked statements stay out of later runs, so "latest that includes them" keeps an approved
    statement as the one payroll pays (1 query).
    """
    statements = (
        statement_list(viewer=viewer, period=period)
        .filter(run__status=PayoutRun.Status.PROCESSED)
        .order_by("rep__last_name", "rep__first_name", "rep_id", "-run_id")
    )
    rows: dict[int, PayrollRow] = {}
    for statement in statements:
        rows.setdefault(statement.rep_id, PayrollRow(statement, statement.adjustments_amount))
    return list(rows.values())


# --- what-if ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HypotheticalDeal:
    name: str
    amount: Decimal
    closed_on: dt.date
    is_new_logo: bool = False


def whatif(
    *, rep: User, period: Period, deals: list[HypotheticalDeal] | tuple = ()
) -> engine.PayoutResult:
    """The rep's payout for ``period`` if they also closed ``deals`` (credited 100% to them).

    The same inputs and engine as the payout run: with no deals it equals the run's result.
    """
    inputs = payout_inputs(period=period, user_ids=[rep.pk]).get(rep.pk)
    if inputs is None:
        raise ApplicationError(f"{rep} is not on a compensation plan in {period}.")
    extra = tuple(
        engine.Deal(
            opportunity_id=None,
            name=f"{deal.name or 'Hypothetical deal'} (what-if)",
            closed_on=deal.closed_on,
            amount=deal.amount,
            deal_amount=deal.amount,
            credit_note="what-if, 100%",
            is_new_logo=deal.is_new_logo,
        )
        for deal in deals
    )
    payout = dataclasses.replace(inputs.payout, deals=inputs.payout.deals + extra)
    return engine.calculate(payout)


# --- a deal's credit --------------------------------------------------------------------------


@dataclass(frozen=True)
class DealCredit:
    """Who is credited with a deal, whether it was cancelled, and the pay lines it produced."""

    opportunity: Opportunity
    splits: list[CreditSplit]
    cancellation: DealCancellation | None
    lines: list[StatementLine]

    @property
    def is_default(self) -> bool:
        return not self.splits


def deal_credit(*, viewer: User, opportunity: Opportunity) -> DealCredit:
    """The deal's credit record; only lines of statements ``viewer`` may see (3 queries)."""
    return DealCredit(
        opportunity=opportunity,
        splits=list(
            CreditSplit.objects.filter(opportunity=opportunity)
            .select_related("user")
            .order_by("-percent", "user_id")
        ),
        cancellation=DealCancellation.objects.filter(opportunity=opportunity)
        .select_related("recorded_by")
        .first(),
        lines=list(
            StatementLine.objects.filter(
                opportunity=opportunity,
                statement__in=Statement.objects.visible_to(viewer).values("pk"),
            )
            .select_related("statement__rep", "statement__run__period", "component")
            .order_by("statement__run__period__start_on", "statement__run_id", "position")
        ),
    )
