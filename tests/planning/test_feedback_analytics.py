"""The feed-back arithmetic on hand-built frames (no database): each figure worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from planning import analytics

# Six closed deals: opportunity_id, owner_id, won, amount, cycle_days, activities, segment,
# lead_source. Deal 5 and 6 are in no segment; 3 and 6 have no lead source.
DEALS = pd.DataFrame(
    [
        (1, 10, True, 10000.0, 30, 3, "Enterprise", "Webinar"),
        (2, 10, False, 5000.0, 12, 5, "Enterprise", "Webinar"),
        (3, 10, True, 4000.0, 10, 1, "Mid-market", ""),
        (4, 20, True, 6000.0, 20, 2, "Mid-market", "Referral"),
        (5, 20, False, 3000.0, 50, 0, None, "Referral"),
        (6, 20, True, 2000.0, 40, 0, None, None),
    ],
    columns=[
        "opportunity_id", "owner_id", "won", "amount", "cycle_days", "activities", "segment",
        "lead_source",
    ],
)  # fmt: skip
# Deal 1: Platform 8,000 + Support 2,000; deal 3: Platform 4,000; deal 6: Support 2,000.
LINES = pd.DataFrame(
    [(1, "Platform", 8000.0), (1, "Support", 2000.0), (3, "Platform", 4000.0),
     (6, "Support", 2000.0)],
    columns=["opportunity_id", "product", "amount"],
)  # fmt: skip


def rows(frame: pd.DataFrame) -> dict[str, tuple]:
    return {
        row.key: (
            row.won, row.lost, row.win_rate, row.won_value, row.average_deal,
            row.median_cycle_days, row.activities_per_won_deal, row.reps, row.revenue_per_rep,
        )
        for row in frame.itertuples()
    }  # fmt: skip


def test_by_segment_with_an_unassigned_row():
    tables = analytics.feedback_breakdowns(DEALS, LINES)
    # Enterprise: 1 won of 2 (10,000), cycle 30, 3 activities, 1 rep.
    # Mid-market: 2 won (4,000 + 6,000), median cycle of 10 and 20, (1 + 2) / 2 activities,
    # 2 reps: 10,000 / 2. Unassigned: deals 5 (lost) and 6 (won 2,000, cycle 40).
    assert rows(tables["segment"]) == {
        "Enterprise": (1, 1, 0.5, 10000.0, 10000.0, 30.0, 3.0, 1, 10000.0),
        "Mid-market": (2, 0, 1.0, 10000.0, 5000.0, 15.0, 1.5, 2, 5000.0),
        "Unassigned": (1, 1, 0.5, 2000.0, 2000.0, 40.0, 0.0, 1, 2000.0),
    }
    # Sorted by won value, ties by name.
    assert list(tables["segment"]["key"]) == ["Enterprise", "Mid-market", "Unassigned"]


def test_by_product_counts_a_deal_in_each_of_its_products_and_none_for_no_line_item():
    tables = analytics.feedback_breakdowns(DEALS, LINES)
    # Platform: deals 1 (8,000) and 3 (4,000), cycles 30 and 10, activities 3 and 1, rep 10.
    # Support: deals 1 (2,000) and 6 (2,000), cycles 30 and 40, activities 3 and 0, reps 10, 20.
    # (none): deals 2 (lost), 4 (won 6,000), 5 (lost); owners 10 and 20.
    assert rows(tables["product"]) == {
        "Platform": (2, 0, 1.0, 12000.0, 6000.0, 20.0, 2.0, 1, 12000.0),
        "(none)": (1, 2, 0.3333, 6000.0, 6000.0, 20.0, 2.0, 2, 3000.0),
        "Support": (2, 0, 1.0, 4000.0, 2000.0, 35.0, 1.5, 2, 2000.0),
    }
    assert list(tables["product"]["key"]) == ["Platform", "(none)", "Support"]


def test_by_lead_source_blank_and_missing_are_none():
    tables = analytics.feedback_breakdowns(DEALS, LINES)
    assert rows(tables["lead_source"]) == {
        "Webinar": (1, 1, 0.5, 10000.0, 10000.0, 30.0, 3.0, 1, 10000.0),
        # Deals 3 and 6: 4,000 + 2,000, cycles 10 and 40, activities 1 and 0, two owners.
        "(none)": (2, 0, 1.0, 6000.0, 3000.0, 25.0, 0.5, 2, 3000.0),
        "Referral": (1, 1, 0.5, 6000.0, 6000.0, 20.0, 2.0, 1, 6000.0),
    }


def test_total_adds_up_every_deal():
    tables = analytics.feedback_breakdowns(DEALS, LINES)
    # 4 won of 6; 22,000 won; cycles 30, 10, 20, 40 (median 25); 6 activities over 4 wins.
    assert rows(tables["total"]) == {
        "All deals": (4, 2, 0.6667, 22000.0, 5500.0, 25.0, 1.5, 2, 11000.0)
    }
    # Nothing dropped: each breakdown's won and lost add up to the total's (products aside).
    for name in ("segment", "lead_source"):
        assert tables[name][["won", "lost"]].sum().tolist() == [4, 2]


def test_no_deals_gives_empty_tables():
    empty = DEALS.iloc[0:0]
    tables = analytics.feedback_breakdowns(empty, LINES.iloc[0:0])
    assert all(frame.empty for frame in tables.values())


def test_assumptions_planned_against_actual_annualised_coverage():
    tables = analytics.feedback_breakdowns(DEALS, LINES)
    plan = pd.DataFrame(
        [("Enterprise", "ae", 0.4, 12000.0, 45.0, 12.0),
         ("Enterprise", "se", 0.4, 12000.0, 45.0, 4.0),
         ("Mid-market", "ae", 0.3, 5000.0, 20.0, 6.0),
         ("SMB", "sdr", 0.2, 1000.0, 10.0, 24.0)],
        columns=["segment", "sales_role", "planned_win_rate", "planned_deal_size",
                 "planned_cycle_days", "planned_activities_per_account"],
    )  # fmt: skip
    accounts = pd.DataFrame(
        [("Enterprise", 1), ("Mid-market", 2), ("Unassigned", 1)], columns=["segment", "accounts"]
    )
    activities = pd.DataFrame(
        [("Enterprise", "ae", 3), ("Enterprise", "se", 2), ("Mid-market", "ae", 1),
         ("Mid-market", "ae", 2), ("Unassigned", "ae", 7)],
        columns=["segment", "sales_role", "activities"],
    )  # fmt: skip
    out = analytics.assumptions(plan, tables["segment"], accounts, activities, period_days=90)
    got = {(r.segment, r.sales_role): r for r in out.itertuples()}
    enterprise_ae = got[("Enterprise", "ae")]
    assert (enterprise_ae.actual_win_rate, enterprise_ae.actual_deal_size) == (0.5, 10000.0)
    assert enterprise_ae.actual_cycle_days == 30.0
    # 3 calls on 1 account in 90 days: 3 x 365 / 90 = 12.17 a year.
    assert enterprise_ae.actual_activities_per_account == 12.2
    assert got[("Enterprise", "se")].actual_activities_per_account == 8.1  # 2 x 365 / 90
    # Mid-market AE: 3 activities on 2 accounts: 1.5 x 365 / 90 = 6.08.
    assert got[("Mid-market", "ae")].actual_activities_per_account == 6.1
    assert got[("Mid-market", "ae")].planned_win_rate == 0.3
    # A segment with no accounts and no deals: actuals unknown, not zero.
    smb = got[("SMB", "sdr")]
    assert smb.accounts == 0
    assert pd.isna(smb.actual_win_rate)
    assert pd.isna(smb.actual_activities_per_account)


@pytest.mark.parametrize("days", [0, -3])
def test_assumptions_never_divide_by_zero_days(days):
    plan = pd.DataFrame(
        [("Enterprise", "ae", 0.4, 1.0, 1.0, 1.0)],
        columns=["segment", "sales_role", "planned_win_rate", "planned_deal_size",
                 "planned_cycle_days", "planned_activities_per_account"],
    )  # fmt: skip
    accounts = pd.DataFrame([("Enterprise", 1)], columns=["segment", "accounts"])
    activities = pd.DataFrame(
        [("Enterprise", "ae", 2)], columns=["segment", "sales_role", "activities"]
    )
    out = analytics.assumptions(
        plan, analytics.breakdown(DEALS, "segment"), accounts, activities, period_days=days
    )
    assert out["actual_activities_per_account"].iloc[0] == 730.0
