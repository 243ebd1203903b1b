"""Deals as they stood at past moments, rebuilt in pandas from the append-only change log.

The same rule as ``accounts.selectors.opportunities_as_of``, vectorized for many deals and
many moments: a deal exists from its creation (``created_at`` or its first history row,
whichever is earlier); each tracked field has the latest value logged by then, else (no row
yet: an import logs no creation row for a field its history never changes) the value before
its first change, else the deal's current value. The backtest and the waterfall can only
ever see what was recorded by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from accounts.models import Opportunity, OpportunityChange, Stage
from salesmgmt.money import RateTable

from ..analytics import rollups
from .frames import changes_frame, to_reporting

TRACKED = [
    OpportunityChange.Field.AMOUNT,
    OpportunityChange.Field.CURRENCY,
    OpportunityChange.Field.EXPECTED_CLOSE_ON,
    OpportunityChange.Field.STAGE,
    OpportunityChange.Field.OWNER,
    OpportunityChange.Field.STATUS,
    OpportunityChange.Field.CLOSED_ON,
    OpportunityChange.Field.FORECAST_CATEGORY,
]


class History:
    """The change log of some deals, loaded once, replayable at any moment."""

    def __init__(
        self,
        *,
        opportunity_ids: Iterable[int] | None,
        rates: RateTable,
        until: dt.datetime | None = None,
    ) -> None:
        ids = None if opportunity_ids is None else list(opportunity_ids)
        self.changes = changes_frame(
            fields=[str(f) for f in TRACKED], opportunity_ids=ids, until=until
        )
        self.rates = rates
        self.stage_category = dict(Stage.objects.values_list("pk", "default_forecast_category"))
        self.created, self.initial = _starting_points(ids, self.changes, until)

    def as_of(self, at: dt.datetime) -> pd.DataFrame:
        """One row per deal existing at ``at``: opportunity_id, owner_id, status, amount
        (reporting), expected_close_on, closed_on, stage_id, category (effective)."""
        moment = pd.Timestamp(at)
        rows = self.changes[self.changes["at"] <= moment]
        latest = rows.drop_duplicates(["opportunity_id", "field"], keep="last")
        wide = latest.pivot(index="opportunity_id", columns="field", values="new")
        existing = self.created.index[self.created <= moment]
        # Fields with no row by then: the value before their first change, else today's.
        wide = wide.reindex(existing).combine_first(self.initial.reindex(existing))
        wide = wide.rename_axis("opportunity_id").reset_index()
        if wide.empty:
            return pd.DataFrame(
                columns=[
                    "opportunity_id",
                    "owner_id",
                    "status",
                    "amount",
                    "expected_close_on",
                    "closed_on",
                    "stage_id",
                    "category",
                ]
            )
        state = pd.DataFrame(
            {
                "opportunity_id": wide["opportunity_id"].astype("int64"),
                "owner_id": pd.to_numeric(wide["owner"], errors="coerce").astype("Int64"),
                "status": wide["status"].fillna("open"),
                "amount": pd.to_numeric(wide["amount"], errors="coerce").fillna(0.0),
                "currency": wide["currency"].fillna("").replace("", None),
                "expected_close_on": pd.to_datetime(wide["expected_close_on"].replace("", None)),
                "closed_on": pd.to_datetime(wide["closed_on"].replace("", None)),
                "stage_id": pd.to_numeric(wide["stage"].replace("", None), errors="coerce"),
            }
        )
        state["currency"] = state["currency"].fillna(self.rates.reporting)
        state["day"] = state["closed_on"].fillna(state["expected_close_on"]).dt.date
        state["amount"] = to_reporting(state, self.rates, day_column="day")
        # The rep's choice as it stood then ("" = none, the stage's default applies).
        state["chosen_category"] = wide["forecast_category"].fillna("").to_numpy()
        state["stage_category"] = state["stage_id"].map(self.stage_category)
        state["category"] = rollups.effective_category(state)
        return state.drop(columns=["day", "currency", "chosen_category", "stage_category"])


# The deal's own columns of the tracked fields (the fallback when the log has no row).
_COLUMNS = {
    str(name): f"{name}_id" if name in ("stage", "owner") else str(name) for name in TRACKED
}


def _starting_points(
    ids: list[int] | None, changes: pd.DataFrame, until: dt.datetime | None
) -> tuple[pd.Series, pd.DataFrame]:
    """When each deal was created, and each tracked field's value before its first logged
    change (its first row's old value, else the deal's current value), as history text."""
    deals = Opportunity.objects.all()
    if ids is not None:
        deals = deals.filter(pk__in=ids)
    rows = list(deals.values_list("pk", "created_at", *_COLUMNS.values()))
    # As objects, so that ids stay ints (a column with a None would turn them into floats).
    current = pd.DataFrame(rows, columns=["opportunity_id", "created_at", *_COLUMNS], dtype=object)
    current = current.set_index("opportunity_id")
    created = pd.to_datetime(current.pop("created_at"), utc=True)
    current = current.map(lambda value: "" if value is None else str(value))
    logged = changes
    if until is not None and ids:
        # The first change of a field may come after ``until`` (the rows loaded end there).
        later = changes_frame(fields=list(_COLUMNS), opportunity_ids=ids, since=until)
        logged = pd.concat([changes, later])
    if logged.empty:
        return created.sort_index(), current
    first = logged.drop_duplicates(["opportunity_id", "field"], keep="first")
    before = first.pivot(index="opportunity_id", columns="field", values="old")
    initial = before.reindex(index=current.index, columns=list(_COLUMNS)).combine_first(current)
    first_row = logged.groupby("opportunity_id")["at"].min()
    created = pd.concat([created, first_row], axis=1).min(axis=1).dropna()
    return created.sort_index(), initial
