"""The forecasting replay (``History``) and the deal's own (``opportunities_as_of``) agree.

An import logs no creation row for a field its history never changes (amount, currency,
status): both replays take the value before the field's first change, else the deal's own.
A deal exists from its creation, whether or not a row is logged by then.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from accounts import services
from accounts.models import Opportunity, OpportunityChange
from accounts.selectors import opportunities_as_of
from accounts.services_bulk import DealRow, opportunity_bulk_import
from forecasting.selectors.history import History
from salesmgmt.money import RateTable
from tests.factories import AccountFactory

UTC = dt.UTC


def day(text: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(hour), tzinfo=UTC)


@pytest.fixture
def imported(rep_a, process):
    """Two deals from a CRM export: one won in 2023, one still open."""
    account = AccountFactory(owner=rep_a, name="Hartmann GmbH")
    stages = list(process.stages.order_by("order"))
    common = {"account": account, "owner": rep_a}
    opportunity_bulk_import(
        actor=rep_a,
        rows=[
            DealRow(
                row=2, name="Won renewal", amount=Decimal("1200.50"),
                expected_close_on=dt.date(2023, 9, 30), external_id="X-1", stage=stages[1],
                status="won", closed_on=dt.date(2023, 9, 15), created_at=day("2023-05-02"),
                **common,
            ),
            DealRow(
                row=3, name="Open expansion", amount=Decimal("800"),
                expected_close_on=dt.date(2024, 3, 31), external_id="X-2", stage=stages[1],
                status="open", created_at=day("2023-11-20"), **common,
            ),
        ],
    )  # fmt: skip
    return {deal.external_id: deal for deal in Opportunity.objects.filter(external_id__gt="")}


def both_replays(at: dt.datetime) -> tuple[dict, dict]:
    """Each deal at ``at`` as (status, amount, close date, closed on, stage, owner)."""
    ours = opportunities_as_of(at=at)
    mine = {
        pk: (
            state["status"],
            float(state["amount"]),
            state["expected_close_on"],
            state["closed_on"],
            state["stage"],
            state["owner"],
        )
        for pk, state in ours.items()
    }
    frame = History(opportunity_ids=None, rates=RateTable.load()).as_of(at)
    theirs = {
        row.opportunity_id: (
            row.status,
            row.amount,
            row.expected_close_on.date(),
            None if pd.isna(row.closed_on) else row.closed_on.date(),
            None if pd.isna(row.stage_id) else int(row.stage_id),
            int(row.owner_id),
        )
        for row in frame.itertuples()
    }
    return mine, theirs


def test_an_import_logs_no_creation_row_for_fields_its_history_never_changes(imported):
    logged = set(
        OpportunityChange.objects.filter(opportunity=imported["X-2"]).values_list(
            "field", flat=True
        )
    )
    assert not logged & {"amount", "currency", "status"}


@pytest.mark.parametrize(
    "moment",
    ["2023-05-01", "2023-05-03", "2023-09-20", "2023-12-01", "2024-02-01", "2026-01-01"],
)
def test_both_replays_agree_on_imported_deals_at_any_moment(imported, rep_a, moment):
    # Given the open deal's amount and close date changed here in January 2024
    services.opportunity_update(
        actor=rep_a,
        opportunity=imported["X-2"],
        amount=Decimal("950"),
        expected_close_on=dt.date(2024, 6, 30),
        at=day("2024-01-15"),
    )

    mine, theirs = both_replays(day(moment))

    assert mine == theirs


def test_before_its_first_change_a_field_reads_as_it_was_then(imported, rep_a):
    services.opportunity_update(
        actor=rep_a, opportunity=imported["X-2"], amount=Decimal("950"), at=day("2024-01-15")
    )
    deal = imported["X-2"].pk

    before = History(opportunity_ids=[deal], rates=RateTable.load()).as_of(day("2023-12-01"))
    after = History(opportunity_ids=[deal], rates=RateTable.load()).as_of(day("2024-02-01"))

    assert before["amount"].tolist() == [800.0]
    assert after["amount"].tolist() == [950.0]
    assert before["status"].tolist() == ["open"]


def test_a_deal_does_not_exist_before_its_creation(imported):
    history = History(opportunity_ids=[imported["X-1"].pk], rates=RateTable.load())

    assert history.as_of(day("2023-05-01")).empty
    assert history.as_of(day("2023-05-03"))["status"].tolist() == ["open"]
    assert history.as_of(day("2023-09-20"))["status"].tolist() == ["won"]


def test_the_waterfall_window_sees_fields_first_changed_after_it(imported, rep_a):
    # ``until`` ends the rows loaded; a field's first change after it still tells its value.
    services.opportunity_update(
        actor=rep_a, opportunity=imported["X-2"], amount=Decimal("950"), at=day("2024-01-15")
    )
    history = History(
        opportunity_ids=[imported["X-2"].pk], rates=RateTable.load(), until=day("2023-12-31")
    )

    assert history.as_of(day("2023-12-01"))["amount"].tolist() == [800.0]
