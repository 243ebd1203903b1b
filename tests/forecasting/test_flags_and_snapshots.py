"""Inspection flags and the weekly snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from accounts.models import Contact
from forecasting.analytics import flags
from forecasting.models import FlagKind, InspectionFlag, OpportunitySnapshot
from forecasting.services import snapshots
from forecasting.services.flags import flags_refresh
from tests.factories import ActivityFactory, ContactFactory
from tests.forecasting.factories import deal

NOW = pd.Timestamp("2030-03-20 12:00", tz="UTC")


def frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


def test_flag_definitions_on_a_handmade_book():
    deals = frame(
        [
            # id, owner, manager, amount, close, stage, order, entered, account
            (1, 10, 5, 100_000.0, "2030-03-01", 1, 1, "2030-03-18", 100),
            (2, 10, 5, 1_000.0, "2030-03-30", 1, 1, "2030-01-01", 200),
            (3, 10, 5, 2_000.0, "2030-03-30", 2, 2, "2030-03-19", 200),
        ],
        [
            "opportunity_id",
            "owner_id",
            "manager_id",
            "amount",
            "expected_close_on",
            "stage_id",
            "stage_order",
            "stage_entered_at",
            "account_id",
        ],
    )
    deals["stage_entered_at"] = pd.to_datetime(deals["stage_entered_at"], utc=True)
    deals["expected_close_on"] = pd.to_datetime(deals["expected_close_on"]).dt.date
    close_changes = frame(
        [
            (
                1,
                NOW - pd.Timedelta(days=40),
                pd.Timestamp("2030-01-01"),
                pd.Timestamp("2030-02-01"),
            ),
            (
                1,
                NOW - pd.Timedelta(days=30),
                pd.Timestamp("2030-02-01"),
                pd.Timestamp("2030-03-01"),
            ),
        ],
        ["opportunity_id", "at", "old_on", "new_on"],
    )
    amount_changes = frame(
        [(3, "amount", NOW - pd.Timedelta(days=2), "1000.00", "2000.00")],
        ["opportunity_id", "field", "at", "old", "new"],
    )
    stays = frame([(90 + i, 1, 5.0 + i) for i in range(6)], ["opportunity_id", "stage_id", "days"])
    activities = frame(
        [(10, 3, "call", NOW + pd.Timedelta(days=2))],
        ["owner_id", "opportunity_id", "kind", "occurred_at"],
    )
    contacts = frame([(200, "decision_maker"), (200, "")], ["account_id", "buying_role"])
    completed = frame([(2, 1), (2, 3)], ["opportunity_id", "stage_order"])

    raised = flags.compute_flags(
        deals,
        now=NOW.to_pydatetime(),
        close_changes=close_changes,
        amount_changes=amount_changes,
        stays=stays,
        activities=activities,
        contacts=contacts,
        completed=completed,
        period_ends=pd.Series({1: "2030-03-31", 2: "2030-03-31", 3: "2030-03-31"}),
    )

    kinds = raised.groupby("opportunity_id")["kind"].apply(set).to_dict()
    assert kinds[1] == {
        "pushed_twice",
        "no_activity",
        "close_date_past",
        "single_contact",
        "no_decision_maker",
    }
    assert kinds[2] == {"no_activity", "stuck_in_stage", "milestone_skipped"}
    # a call scheduled for later is not contact yet: deal 3 is stale until it is held
    assert kinds[3] == {"no_activity", "late_amount_change"}


def test_refresh_flags_writes_rows_and_replaces_them(rep_a, stages, today):
    opp = deal(rep_a, 5000, close_on=today - dt.timedelta(days=3), stage=stages["Qualify"])
    ContactFactory(account=opp.account, buying_role=Contact.BuyingRole.DECISION_MAKER)
    ContactFactory(account=opp.account)
    ActivityFactory(
        owner=rep_a,
        account=opp.account,
        opportunity=opp,
        occurred_at=timezone.now() - dt.timedelta(days=2),
        outcome="connected",  # two-way contact: it keeps the deal current
    )

    flags_refresh()
    flags_refresh()

    assert list(InspectionFlag.objects.values_list("kind", flat=True)) == [FlagKind.CLOSE_DATE_PAST]


def test_weekly_snapshot_records_every_open_deal_once_per_day(rep_a, stages, close_on, today):
    opp = deal(rep_a, 1000, close_on=close_on, stage=stages["Negotiate"], category="best_case")
    deal(rep_a, 1000, close_on=close_on, status="won")

    snapshots.snapshot_take(on=today)
    snapshots.snapshot_take(on=today)

    snap = OpportunitySnapshot.objects.get()
    assert (snap.opportunity, snap.taken_on, snap.amount, snap.category, snap.stage) == (
        opp,
        today,
        Decimal(1000),
        "best_case",
        stages["Negotiate"],
    )
