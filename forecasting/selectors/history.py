"""Deals as they stood at past moments, rebuilt in pandas from the append-only change log.

The same rule as ``accounts.selectors.opportunities_as_of`` (the latest value of each tracked
field with ``changed_at <= at``), vectorized for many deals and many moments: the backtest
and the waterfall can only ever see what was recorded by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from accounts.models import OpportunityChange, Stage
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

    def as_of(self, at: dt.datetime) -> pd.DataFrame:
        """One row per deal existing at ``at``: opportunity_id, owner_id, status, amount
        (reporting), expected_close_on, closed_on, stage_id, category (effective)."""
        rows = self.changes[self.changes["at"] <= pd.Timestamp(at)]
        latest = rows.drop_duplicates(["opportunity_id", "field"], keep="last")
        wide = latest.pivot(index="opportunity_id", columns="field", values="new")
        for name in TRACKED:
            if str(name) not in wide:
                wide[str(name)] = None
        wide = wide.reset_index()
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
