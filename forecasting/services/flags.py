"""Refresh the inspection flags of every open deal (definitions in analytics.flags)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Activity, Milestone, MilestoneCompletion, Opportunity
from salesmgmt import webhooks
from salesmgmt.models import Period, WebhookEvent
from salesmgmt.money import RateTable

from ..analytics import flags
from ..models import InspectionFlag
from ..selectors import frames
from .context import BULK, FORECAST_KIND

FIELDS = [
    "id",
    "owner_id",
    "owner__manager_id",
    "amount",
    "currency",
    "expected_close_on",
    "stage_id",
    "stage__order",
    "stage_entered_at",
    "account_id",
]


def _open_deals(rates: RateTable) -> pd.DataFrame:
    rows = Opportunity.objects.open().values_list(*FIELDS)
    deals = pd.DataFrame(list(rows), columns=FIELDS).rename(
        columns={
            "id": "opportunity_id",
            "owner__manager_id": "manager_id",
            "stage__order": "stage_order",
        }
    )
    deals["amount"] = to_amounts(deals, rates)
    return deals.drop(columns=["currency"])


def to_amounts(deals: pd.DataFrame, rates: RateTable) -> pd.Series:
    return frames.to_reporting(deals, rates, day_column="expected_close_on")


def _completed_stage_orders(opportunity_ids: list[int]) -> pd.DataFrame:
    events = frames.milestone_events_frame()
    events = events[events["opportunity_id"].isin(opportunity_ids)]
    current = events.drop_duplicates(["opportunity_id", "milestone_id"], keep="last")
    current = current[current["counts"]]
    orders = dict(Milestone.objects.values_list("pk", "stage__order"))
    return pd.DataFrame(
        {
            "opportunity_id": current["opportunity_id"],
            "stage_order": current["milestone_id"].map(orders),
        }
    )


def _period_ends(deals: pd.DataFrame) -> pd.Series:
    periods = list(Period.objects.filter(kind=FORECAST_KIND).values_list("start_on", "end_on"))
    if not periods or deals.empty:
        return pd.Series(dtype="datetime64[ns]")
    table = pd.DataFrame(periods, columns=["start_on", "end_on"]).sort_values("start_on")
    close = pd.to_datetime(deals["expected_close_on"]).to_numpy(dtype="datetime64[D]")
    starts = pd.to_datetime(table["start_on"]).to_numpy(dtype="datetime64[D]")
    index = (starts.searchsorted(close, side="right") - 1).clip(0)
    ends = pd.to_datetime(table["end_on"]).to_numpy()[index]
    return pd.Series(ends, index=deals["opportunity_id"].to_numpy())


def imported_unworked_ids(*, now: dt.datetime) -> set[int]:
    """Open deals an import brought in that nobody has worked here since: no activity held
    by ``now`` and no milestone completion (other than the imported ones) after their
    ``imported_at`` (1 query)."""
    activity_since = Activity.objects.held(now=now).filter(
        opportunity_id=OuterRef("pk"), occurred_at__gt=OuterRef("imported_at")
    )
    milestone_since = MilestoneCompletion.objects.filter(
        opportunity_id=OuterRef("pk"), completed_at__gt=OuterRef("imported_at")
    ).exclude(verification_state=MilestoneCompletion.Verification.IMPORTED)
    unworked = (
        Opportunity.objects.open()
        .filter(imported_at__isnull=False)
        .exclude(Exists(activity_since))
        .exclude(Exists(milestone_since))
    )
    return set(unworked.values_list("pk", flat=True))


def flags_refresh(*, now: dt.datetime | None = None) -> int:
    """Recompute every flag; returns how many are raised."""
    now = now or timezone.now()
    deals = _open_deals(RateTable.load())
    ids = deals["opportunity_id"].tolist()
    stage_changes = frames.changes_frame(fields=["stage"])
    close_changes = frames.close_date_changes_frame()
    raised = (
        flags.compute_flags(
            deals,
            now=now,
            close_changes=close_changes[close_changes["opportunity_id"].isin(ids)],
            amount_changes=frames.changes_frame(fields=["amount"], opportunity_ids=None).query(
                "opportunity_id in @ids"
            ),
            stays=flags.stage_stays(stage_changes),
            activities=frames.activities_frame(
                since=now - dt.timedelta(days=flags.NO_ACTIVITY_DAYS)
            ),
            contacts=frames.contacts_frame(),
            buying_group=frames.buying_group_frame().query("opportunity_id in @ids"),
            completed=_completed_stage_orders(ids),
            period_ends=_period_ends(deals),
        )
        if ids
        else pd.DataFrame(columns=["opportunity_id", "owner_id", "kind", "detail"])
    )
    raised = flags.set_aside_imported(raised, imported_unworked_ids(now=now))
    with transaction.atomic():
        before = set(InspectionFlag.objects.values_list("opportunity_id", "kind"))
        InspectionFlag.objects.all().delete()
        InspectionFlag.objects.bulk_create(
            (
                InspectionFlag(
                    opportunity_id=int(row.opportunity_id),
                    owner_id=int(row.owner_id),
                    kind=row.kind,
                    detail=str(row.detail)[:255],
                    computed_at=now,
                )
                for row in raised.itertuples()
            ),
            batch_size=BULK,
        )
        _emit_new_flags(raised, before, now)
    return len(raised)


def _emit_new_flags(raised: pd.DataFrame, before: set[tuple[int, str]], now: dt.datetime) -> None:
    """One event per deal with flags it did not have at the last refresh (its owner and
    manager are told); the ISO week is the window, so a flag that flickers is told once."""
    new: dict[int, list[str]] = {}
    details: dict[int, str] = {}
    for row in raised.itertuples():
        key = (int(row.opportunity_id), str(row.kind))
        if key not in before:
            new.setdefault(key[0], []).append(key[1])
            details.setdefault(key[0], str(row.detail)[:255])
    year, week, _ = timezone.localdate(now).isocalendar()
    for deal_id, kinds in sorted(new.items()):
        webhooks.emit(
            WebhookEvent.OPPORTUNITY_FLAGGED,
            # Only the label and id of the subject are read: no need to load the deal.
            subject=Opportunity(pk=deal_id),
            data={"flags": sorted(kinds), "detail": details[deal_id], "window": f"{year}-W{week}"},
        )
