"""Reads for the feed-back report: what happened in a period, against the sales task.

Builds the DataFrames ``planning.analytics`` computes on, scoped by the one visibility policy:
executives and administrators read the whole company; a manager reads the deals owned in their
reporting subtree, and the accounts and activities of their subtree for coverage. A fixed number
of queries, whatever the number of deals, products, segments or activities.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Value
from django.db.models.functions import Round

from accounts.models import Account, Activity, Opportunity, OpportunityLineItem
from forecasting.selectors.frames import to_reporting
from salesmgmt.models import Period, User
from salesmgmt.money import RateTable
from salesmgmt.visibility import owned_by_visible
from territories.rule_engine import AccountFacts, match_accounts

from . import analytics
from .models import Segment
from .selectors import History, history, segment_list, segment_spec

# The activities the coverage model counts: its unit is "calls or meetings".
COVERAGE_KINDS = (Activity.Kind.CALL, Activity.Kind.MEETING)
FACTS = ("country", "region", "state", "industry", "employee_count", "annual_revenue")


@dataclass(frozen=True)
class FeedbackReport:
    period: Period
    segment: pd.DataFrame
    product: pd.DataFrame
    lead_source: pd.DataFrame
    total: pd.DataFrame
    assumptions: pd.DataFrame
    history: History

    def tables(self) -> list[tuple[str, str, pd.DataFrame]]:
        """(dimension, heading, rows) for the page and the CSV, in reading order."""
        return [
            ("segment", "By segment", self.segment),
            ("product", "By product", self.product),
            ("lead_source", "By lead source", self.lead_source),
            ("total", "All deals", self.total),
        ]


def _segment_of(rows: list[dict], segments: list[Segment]) -> dict[int, str]:
    """Each account's segment name (the segment rules, matched by the territory engine);
    ``rows``: id and the account fields the rules read."""
    names = {segment.pk: segment.name for segment in segments}
    facts = (
        AccountFacts(
            account_id=row["id"],
            country=row["country"] or "",
            region=row["region"] or "",
            state=row["state"] or "",
            industry=row["industry"] or "",
            employee_count=row["employee_count"],
            annual_revenue=row["annual_revenue"],
        )
        for row in rows
    )
    matches = match_accounts(facts, [segment_spec(segment) for segment in segments])
    return {
        match.account_id: names[match.territory_id]
        for match in matches
        if match.territory_id is not None
    }


def closed_deals(*, viewer: User, period: Period, rates: RateTable) -> list[dict]:
    """Deals the viewer reads, closed in the period, with their account's facts (1 query)."""
    fields = [
        "id", "owner_id", "account_id", "status", "amount", "currency", "closed_on",
        "created_at", "lead_source", *(f"account__{name}" for name in FACTS),
    ]  # fmt: skip
    return list(
        Opportunity.objects.filter(
            owned_by_visible(viewer),
            status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
            closed_on__range=(period.start_on, period.end_on),
        )
        .order_by("id")
        .values(*fields)
    )


def _deals_frame(rows: list[dict], segments: list[Segment], rates: RateTable) -> pd.DataFrame:
    columns = ["opportunity_id", "owner_id", "won", "amount", "cycle_days", "lead_source"]
    if not rows:
        return pd.DataFrame(columns=[*columns, "segment", "activities", "closed_on", "currency"])
    segment_of = _segment_of(
        [
            {"id": row["account_id"], **{name: row[f"account__{name}"] for name in FACTS}}
            for row in rows
        ],
        segments,
    )
    frame = pd.DataFrame(rows).rename(columns={"id": "opportunity_id"})
    frame["won"] = frame["status"] == Opportunity.Status.WON
    frame["amount"] = to_reporting(frame, rates, day_column="closed_on")
    # Days from creation to the end of the close day (as the KPIs count a sales cycle).
    created = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(None).dt.normalize()
    frame["cycle_days"] = (pd.to_datetime(frame["closed_on"]) - created).dt.days
    frame["segment"] = frame["account_id"].map(segment_of)
    return frame


def _lines_frame(deals: pd.DataFrame, rates: RateTable) -> pd.DataFrame:
    """The deals' line totals in the reporting currency at the close day's rate (1 query)."""
    if deals.empty:
        return pd.DataFrame(columns=["opportunity_id", "product", "amount"])
    kept = Value(Decimal(1)) - F("discount_percent") * Value(Decimal("0.01"))
    total = ExpressionWrapper(
        Round(F("quantity") * F("unit_price") * kept, 2),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )
    rows = (
        OpportunityLineItem.objects.filter(opportunity_id__in=deals["opportunity_id"].tolist())
        .annotate(total=total)
        .values_list("opportunity_id", "product__name", "total")
    )
    lines = pd.DataFrame(list(rows), columns=["opportunity_id", "product", "amount"])
    if lines.empty:
        return lines
    lines = lines.merge(deals[["opportunity_id", "currency", "closed_on"]], on="opportunity_id")
    lines["amount"] = to_reporting(lines, rates, day_column="closed_on")
    return lines[["opportunity_id", "product", "amount"]]


def _deal_activities(deals: pd.DataFrame) -> pd.Series:
    """Activities logged on each won deal, whenever (1 query; 0 queries without won deals)."""
    won_ids = deals.loc[deals["won"], "opportunity_id"].tolist() if len(deals) else []
    if not won_ids:
        return pd.Series(dtype="int64")
    rows = (
        Activity.objects.filter(opportunity_id__in=won_ids)
        .values("opportunity_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("opportunity_id", "n")
    )
    return pd.Series(dict(rows), dtype="int64")


def _coverage_actuals(
    *, viewer: User, period: Period, segments: list[Segment]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts per segment, and calls and meetings per segment and role in the period (2 queries).

    A manager's: the accounts their subtree owns and the activities their subtree logged on them.
    """
    accounts = list(Account.objects.filter(owned_by_visible(viewer)).values("id", *FACTS))
    segment_of = _segment_of(accounts, segments)
    counts = pd.Series([segment_of.get(row["id"], analytics.UNASSIGNED) for row in accounts])
    per_segment = counts.value_counts().rename_axis("segment").reset_index(name="accounts")
    start = dt.datetime.combine(period.start_on, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(period.end_on + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    logged = (
        Activity.objects.filter(
            owned_by_visible(viewer),
            owned_by_visible(viewer, "account__owner"),
            kind__in=COVERAGE_KINDS,
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .values("account_id", "owner__sales_role")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("account_id", "owner__sales_role", "n")
    )
    activities = pd.DataFrame(list(logged), columns=["account_id", "sales_role", "activities"])
    activities["segment"] = activities["account_id"].map(segment_of).fillna(analytics.UNASSIGNED)
    return per_segment, activities[["segment", "sales_role", "activities"]]


def _plan_frame(segments: list[Segment], past: History) -> pd.DataFrame:
    """Each coverage row's assumptions, history's figure where the row leaves one empty."""

    def number(value: Decimal | int | None, default: Decimal | int | None) -> float | None:
        chosen = value if value is not None else default
        return None if chosen is None else float(chosen)

    rows = [
        {
            "segment": segment.name,
            "sales_role": line.sales_role,
            "planned_win_rate": number(line.win_rate, past.win_rate),
            "planned_deal_size": number(line.deal_size, past.deal_size),
            "planned_cycle_days": number(line.cycle_days, past.cycle_days),
            "planned_activities_per_account": float(line.activities_per_account),
        }
        for segment in segments
        for line in segment.coverages.all()
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "segment", "sales_role", "planned_win_rate", "planned_deal_size",
            "planned_cycle_days", "planned_activities_per_account",
        ],
    )  # fmt: skip


def feedback_report(*, viewer: User, period: Period) -> FeedbackReport:
    """The report for ``period`` as ``viewer`` may read it (a fixed number of queries)."""
    rates = RateTable.load()
    segments = list(segment_list())
    deals = _deals_frame(closed_deals(viewer=viewer, period=period, rates=rates), segments, rates)
    deals["activities"] = (
        deals["opportunity_id"].map(_deal_activities(deals)).fillna(0).astype(int)
        if len(deals)
        else pd.Series(dtype="int64")
    )
    tables = analytics.feedback_breakdowns(deals, _lines_frame(deals, rates))
    accounts, activities = _coverage_actuals(viewer=viewer, period=period, segments=segments)
    # History's figures (the whole company's trailing year: 5 queries over every closed deal)
    # only when a coverage row leaves one to it.
    needs_history = any(
        None in (line.win_rate, line.deal_size, line.cycle_days)
        for segment in segments
        for line in segment.coverages.all()
    )
    past = history() if needs_history else History(None, None, None, None)
    planned = analytics.assumptions(
        _plan_frame(segments, past),
        tables["segment"],
        accounts,
        activities,
        period_days=(period.end_on - period.start_on).days + 1,
    )
    return FeedbackReport(period=period, assumptions=planned, history=past, **tables)
