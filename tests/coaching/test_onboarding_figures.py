"""Onboarding figures by hand, without a database: a programme's progress, days to first deal
and to quota, cohorts and a programme's effect."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from coaching import time_to_productivity as ttp
from coaching.models import ProgrammeStep
from coaching.programme_progress import progress_of

START = dt.date(2026, 3, 1)


def step(pk, kind="module", due=10, milestone_id=None):
    return ProgrammeStep(
        pk=pk, order=pk, kind=kind, title=f"S{pk}", due_after_days=due, milestone_id=milestone_id
    )


def done(step_id, day):
    return SimpleNamespace(step_id=step_id, completed_on=day)


def test_progress_counts_done_steps_next_step_and_overdue():
    steps = [
        step(1, due=7),  # module done on 3/5
        step(2, "certification", due=14),  # not done, due 3/15: overdue on 3/20
        step(3, "practice", due=30, milestone_id=9),  # milestone done on a deal 3/18
        step(4, due=60),  # not done, due 4/30: not overdue yet
    ]
    practice = {9: [(dt.date(2026, 2, 20), 70), (dt.date(2026, 3, 18), 71)]}

    progress = progress_of(
        steps=steps,
        completions=[done(1, dt.date(2026, 3, 5))],
        practice=practice,
        started_on=START,
        today=dt.date(2026, 3, 20),
    )

    assert (progress.done, progress.total, progress.percent) == (2, 4, 50)
    assert progress.next_step.step.pk == 2
    assert [s.step.pk for s in progress.overdue] == [2]
    # The milestone done before the programme started does not count; the later one does.
    assert progress.states[2].done_on == dt.date(2026, 3, 18)
    assert progress.states[2].deal_id == 71
    assert progress.states[1].due_on == dt.date(2026, 3, 15)
    assert not progress.is_complete


def test_progress_of_an_empty_programme_is_zero_percent():
    progress = progress_of(steps=[], completions=[], practice={}, started_on=START, today=START)
    assert (progress.done, progress.total, progress.percent, progress.next_step) == (0, 0, 0, None)


@pytest.fixture
def figures():
    hires = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4],
            "hire_date": [
                dt.date(2026, 1, 10), dt.date(2026, 2, 1), dt.date(2026, 4, 5),
                dt.date(2026, 5, 1),
            ],
        }
    )  # fmt: skip
    wins = pd.DataFrame(
        {
            # 1: a deal before the start (not theirs as a new hire), then 3/1; 2: 5/1; 3: day 0.
            "owner_id": [1, 1, 2, 3],
            "closed_on": [
                dt.date(2025, 12, 1), dt.date(2026, 3, 1), dt.date(2026, 5, 1),
                dt.date(2026, 4, 5),
            ],
        }
    )  # fmt: skip
    attainment = pd.DataFrame(
        {
            "person_id": [1, 1, 2, 3, 4],
            "end_on": [
                dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 6, 30),
                dt.date(2026, 9, 30), dt.date(2026, 6, 30),
            ],
            "percent": [50, 120, None, 100, 99.9],
        }
    )  # fmt: skip
    return ttp.new_hire_figures(
        hires=hires, wins=wins, attainment=attainment, today=dt.date(2026, 8, 1)
    )


def test_days_to_first_deal_and_to_quota_by_hand(figures):
    # 1: Jan 10 → Mar 1 = 21 + 28 + 1 = 50 days; Q2 ends Jun 30: 21+28+31+30+31+30 = 171.
    # 2: Feb 1 → May 1 = 89 days; never at 100 %.
    # 3: first deal on the start day (0); Q3 at 100 % but runs until Sep 30: to today,
    #    Apr 5 → Aug 1 = 25 + 31 + 30 + 31 + 1 = 118.
    # 4: no deal; 99.9 % is not quota.
    assert figures["days_to_first_deal"].tolist()[:3] == [50.0, 89.0, 0.0]
    assert pd.isna(figures.at[4, "days_to_first_deal"])
    assert figures.at[1, "days_to_quota"] == 171.0
    assert pd.isna(figures.at[2, "days_to_quota"])
    assert figures.at[3, "days_to_quota"] == 118.0
    assert pd.isna(figures.at[4, "days_to_quota"])
    assert figures["cohort"].tolist() == ["2026 Q1", "2026 Q1", "2026 Q2", "2026 Q2"]


def test_cohort_table_and_earlier_cohorts(figures):
    table = ttp.cohort_table(figures).set_index("cohort")

    assert table.loc["2026 Q1", "hires"] == 2
    assert table.loc["2026 Q1", "median_days_to_first_deal"] == 69.5  # (50 + 89) / 2
    assert table.loc["2026 Q1", "reached_quota"] == 1
    assert table.loc["2026 Q1", "median_days_to_quota"] == 171.0
    assert table.loc["2026 Q2", "reached_first_deal"] == 1
    assert ttp.earlier_cohorts_median(figures, cohort="2026 Q2", column="days_to_first_deal") == (
        69.5
    )
    assert ttp.earlier_cohorts_median(figures, cohort="2026 Q1", column="days_to_quota") is None


def test_programme_effect_compares_enrolled_with_hires_before_it(figures):
    effect = ttp.programme_effect(figures, enrolled_ids=[3, 4], before_ids=[1, 2])

    assert effect.loc["Enrolled", "reps"] == 2
    assert effect.loc["Enrolled", "median_days_to_first_deal"] == 0.0
    assert effect.loc["Enrolled", "median_days_to_quota"] == 118.0
    assert effect.loc["Before the programme", "median_days_to_first_deal"] == 69.5
    assert effect.loc["Before the programme", "median_days_to_quota"] == 171.0
    assert effect.loc["Before the programme", "reached_quota"] == 1


def test_no_hires_gives_empty_figures():
    empty = ttp.new_hire_figures(
        hires=pd.DataFrame(columns=["person_id", "hire_date"]),
        wins=pd.DataFrame(columns=["owner_id", "closed_on"]),
        attainment=pd.DataFrame(columns=["person_id", "end_on", "percent"]),
        today=START,
    )
    assert empty.empty
    assert ttp.cohort_table(empty).empty
