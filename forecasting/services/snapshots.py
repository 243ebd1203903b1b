"""The weekly snapshot of every open deal (amount, close date, stage, category, probability)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db import transaction
from django.utils import timezone

from accounts.models import Opportunity
from salesmgmt.money import RateTable, quantize_money

from ..analytics import rollups
from ..models import DealProbability, OpportunitySnapshot
from ..selectors.frames import to_reporting
from .context import BULK

FIELDS = [
    "id",
    "owner_id",
    "amount",
    "currency",
    "expected_close_on",
    "stage_id",
    "forecast_category",
    "stage__default_forecast_category",
    "status",
]


@transaction.atomic
def snapshot_take(*, on: dt.date | None = None) -> int:
    """Photograph every open deal for ``on`` (today); a second run the same day replaces it."""
    on = on or timezone.localdate()
    rows = Opportunity.objects.open().values_list(*FIELDS)
    deals = pd.DataFrame(list(rows), columns=FIELDS).rename(
        columns={
            "id": "opportunity_id",
            "forecast_category": "chosen_category",
            "stage__default_forecast_category": "stage_category",
        }
    )
    OpportunitySnapshot.objects.filter(taken_on=on).delete()
    if deals.empty:
        return 0
    deals["amount"] = to_reporting(deals, RateTable.load(), day_column="expected_close_on")
    deals["category"] = rollups.effective_category(deals)
    probabilities = dict(DealProbability.objects.values_list("opportunity_id", "probability"))
    OpportunitySnapshot.objects.bulk_create(
        (
            OpportunitySnapshot(
                opportunity_id=int(row.opportunity_id),
                taken_on=on,
                owner_id=int(row.owner_id),
                amount=quantize_money(row.amount),
                expected_close_on=row.expected_close_on,
                stage_id=None if pd.isna(row.stage_id) else int(row.stage_id),
                category=row.category,
                probability=probabilities.get(int(row.opportunity_id)),
            )
            for row in deals.itertuples()
        ),
        batch_size=BULK,
    )
    return len(deals)
