"""The sizing engine against hand-computed examples (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from planning.engine import CoverageLine, Overrides, PlanInputs, ramped_productivity, size


def _plan(**changes) -> PlanInputs:
    # Enterprise: 40 accounts x 12 AE meetings x 2 h = 960 h; Mid-market: 150 x 4 x 1.5 h =
    # 900 h of AE time and 150 x 10 x 0.5 h = 750 h of SDR time.
    fields = {
        "coverage": (
            CoverageLine("Enterprise", "ae", 40, Decimal(12), Decimal(2)),
            CoverageLine("Mid-market", "ae", 150, Decimal(4), Decimal("1.5")),
            CoverageLine("Mid-market", "sdr", 150, Decimal(10), Decimal("0.5")),
        ),
        "selling_hours": {"ae": Decimal(1200), "sdr": Decimal(1500), "am": Decimal(1200)},
        "target": Decimal(3_000_000),
        "productivity": Decimal(800_000),
        "win_rate": Decimal("0.25"),
        "headcount": {"ae": 1, "am": 1},
    }
    return PlanInputs(**{**fields, **changes})


def _row(sizing, role: str) -> dict:
    return sizing.by_role.set_index("sales_role").loc[role].to_dict()


def test_size_workload_people_per_role_and_gap():
    sizing = size(_plan())
    # AE: 960/1200 + 900/1200 = 0.8 + 0.75 = 1.55 FTE -> 2 people, 1 today: gap 1.
    assert _row(sizing, "ae") == {"fte": 1.55, "people": 2, "today": 1, "gap": 1}
    # SDR: 750/1500 = 0.5 -> 1 person, none today.
    assert _row(sizing, "sdr") == {"fte": 0.5, "people": 1, "today": 0, "gap": 1}
    # AM: no coverage, 1 today: one more than the workload needs.
    assert _row(sizing, "am") == {"fte": 0.0, "people": 0, "today": 1, "gap": -1}
    assert list(sizing.workload["hours"]) == [960.0, 900.0, 750.0]


def test_size_revenue_reps_and_gap_to_quota_carriers():
    sizing = size(_plan())
    # 3,000,000 / 800,000 = 3.75 -> 4 quota carriers; AE + AM today = 2.
    assert (sizing.revenue_fte, sizing.revenue_reps, sizing.quota_carriers_today) == (3.75, 4, 2)
    assert sizing.revenue_gap == 2


def test_size_exact_quotient_does_not_round_up():
    sizing = size(_plan(target=Decimal(2_400_000)))
    assert (sizing.revenue_fte, sizing.revenue_reps) == (3.0, 3)


def test_size_overrides_change_both_methods():
    sizing = size(
        _plan(),
        Overrides(
            selling_hours=Decimal(1000), coverage_factor=Decimal(2), win_rate=Decimal("0.30")
        ),
    )
    # AE: (960 + 900) x 2 / 1000 = 3.72 -> 4; SDR: 750 x 2 / 1000 = 1.5 -> 2.
    assert _row(sizing, "ae")["people"] == 4
    assert _row(sizing, "sdr")["fte"] == 1.5
    # Win rate 0.30 against history's 0.25: 800,000 x 1.2 = 960,000 a rep; 3.125 -> 4.
    assert sizing.productivity == 960_000.0
    assert (sizing.revenue_fte, sizing.revenue_reps) == (3.12, 4)


def test_size_without_history_has_no_revenue_sizing():
    sizing = size(_plan(productivity=None), Overrides(target=Decimal(1)))
    assert (sizing.revenue_fte, sizing.revenue_reps, sizing.revenue_gap) == (None, None, None)
    assert size(_plan(productivity=None), Overrides(productivity=Decimal(500))).revenue_reps == (
        6000
    )


def test_ramped_productivity_counts_ramped_reps_with_no_bookings_as_zero():
    reps = pd.DataFrame(
        {
            "person_id": [1, 2, 3],
            "hire_date": [dt.date(2024, 1, 1), None, dt.date(2025, 10, 1)],
        }
    )
    bookings = pd.DataFrame({"owner_id": [1, 1, 3], "amount": [500.0, 300.0, 900.0]})
    # Ramped on 2026-01-01 with 6 months' ramp: reps 1 and 2 (3 was hired too late): (800 + 0) / 2.
    assert ramped_productivity(bookings, reps, window_start=dt.date(2026, 1, 1)) == 400.0
    assert ramped_productivity(bookings, reps.iloc[2:], window_start=dt.date(2026, 1, 1)) is None


def test_ramp_curve_from_history_by_cohort():
    from planning.engine.ramp import ramp_curve

    # Productivity 120,000 a year: 10,000 a month ramped. Rep 1 hired Jan 2025: first deal in
    # month 1 (Feb, 15,000: 3-month mean 7,500 >= 5,000: half at month 1), 30,000 in April
    # (month 3: (15,000 + 0 + 30,000) / 3 = 15,000 >= 10,000: full at month 3).
    # Rep 2 hired Feb 2025: 6,000 in May (month 3: mean 2,000), 30,000 in June (month 4:
    # mean 12,000: half and full at month 4).
    hires = pd.DataFrame(
        {"person_id": [1, 2, 3], "hire_date": [dt.date(2025, 1, 6), dt.date(2025, 2, 3), None]}
    )
    won = pd.DataFrame(
        {
            "owner_id": [1, 1, 2, 2],
            "closed_on": [
                dt.date(2025, 2, 10), dt.date(2025, 4, 1), dt.date(2025, 5, 2), dt.date(2025, 6, 9),
            ],
            "amount": [15_000.0, 30_000.0, 6_000.0, 30_000.0],
        }
    )  # fmt: skip
    curve = ramp_curve(won, hires, productivity=120_000.0)
    # Medians of (1, 3), (1, 4) and (3, 4).
    assert (curve.first_deal, curve.half, curve.full) == (2.0, 2.5, 3.5)
    assert curve.cohorts.to_dict("records") == [
        {"cohort": "2025Q1", "reps": 2, "first_deal": 2.0, "half": 2.5, "full": 3.5}
    ]
    # Before the first deal nothing; half-way between 2.0 (0) and 2.5 (50 %): 25 %.
    assert (curve.factor(1), curve.factor(2.25), curve.factor(3.5), curve.factor(9)) == (
        0.0, 0.25, 1.0, 1.0,
    )  # fmt: skip


def test_ramp_curve_without_history_is_the_default():
    from planning.engine.ramp import DEFAULT_RAMP, ramp_curve

    no_deals = pd.DataFrame(columns=["owner_id", "closed_on", "amount"])
    no_hires = pd.DataFrame(columns=["person_id", "hire_date"])
    curve = ramp_curve(no_deals, no_hires, productivity=1.0)
    assert (curve.first_deal, curve.half, curve.full) == DEFAULT_RAMP


def test_capacity_plan_month_by_month():
    from planning.engine.ramp import RampCurve, Seat, capacity_plan

    curve = RampCurve(1.0, 2.0, 3.0, cohorts=pd.DataFrame())
    seats = [
        Seat(start=dt.date(2020, 1, 1), attrition=0.0),  # ramped: 1,000 a month
        Seat(start=dt.date(2026, 2, 1), attrition=0.0, count=2),  # two hires from February
    ]
    plan = capacity_plan(
        seats, curve, productivity=12_000.0, target=36_000.0,
        first_month=dt.date(2026, 1, 1), months=4,
    )  # fmt: skip
    # Hires' tenure in Jan..Apr: -, 0, 1, 2 -> factors 0, 0, 0, 0.5: 2 x 1,000 x 0.5 in April.
    assert plan["capacity"].tolist() == [1000.0, 1000.0, 1000.0, 2000.0]
    assert plan["target"].tolist() == [9000.0] * 4
    assert plan["gap"].tolist() == [-8000.0, -16000.0, -24000.0, -31000.0]


def test_capacity_plan_attrition_shrinks_capacity():
    from planning.engine.ramp import RampCurve, Seat, capacity_plan

    curve = RampCurve(0.0, 0.0, 0.0, cohorts=pd.DataFrame())
    plan = capacity_plan(
        [Seat(start=dt.date(2020, 1, 1), attrition=0.19)], curve, productivity=12_000.0,
        target=0.0, first_month=dt.date(2026, 1, 1), months=7,
    )  # fmt: skip
    # After 6 months: 1,000 x (1 - 0.19) ^ 0.5 = 1,000 x 0.9 = 900.
    assert plan["capacity"].iloc[6] == 900.0


def test_ramp_curve_ignores_hires_before_the_records_and_stays_ordered():
    from planning.engine.ramp import ramp_curve

    # Rep 9 was hired years before the first recorded win: not a ramp to learn from.
    # Rep 1: first deal and 50 % in month 5; rep 2: first deal month 1, 50 % and 100 % never.
    hires = pd.DataFrame(
        {
            "person_id": [1, 2, 9],
            "hire_date": [dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2019, 1, 1)],
        }
    )
    won = pd.DataFrame(
        {
            "owner_id": [9, 1, 2],
            "closed_on": [dt.date(2025, 1, 2), dt.date(2025, 6, 3), dt.date(2025, 2, 3)],
            "amount": [1.0, 18_000.0, 100.0],
        }
    )
    curve = ramp_curve(won, hires, productivity=120_000.0, records_start=dt.date(2024, 12, 1))
    assert set(curve.cohorts["cohort"]) == {"2025Q1"}
    # first deal: median(5, 1) = 3; half: rep 1's 5 (3-month mean 6,000 >= 5,000); full: none
    # reached, so the default 6.0.
    assert (curve.first_deal, curve.half, curve.full) == (3.0, 5.0, 6.0)
