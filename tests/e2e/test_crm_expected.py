"""The pandas reference of the end-to-end test: hand-computed on a tiny export, then the fixture."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e import crm_expected
from tests.e2e.crm_expected import figure_row

ROOT = Path(__file__).resolve().parents[2]

TEAMS = pd.DataFrame(
    [
        {"sales_agent": "Ana Abara", "manager": "Mo Park", "regional_office": "East"},
        {"sales_agent": "Ben Varga", "manager": "Mo Park", "regional_office": "East"},
        {"sales_agent": "Cy O'Brien", "manager": "Lu Xu", "regional_office": "West"},
    ]
)
HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
PIPELINE_ROWS = [
    # Q1 2024: Ana wins two (cycles 10 and 20 days) and loses one
    "A1,Ana Abara,GTX Pro,Acme,Won,2024-01-01,2024-01-11,100",
    "A2,Ana Abara,GTX Pro,Acme,Won,2024-02-01,2024-02-21,300",
    "A3,Ana Abara,GTX Pro,Acme,Lost,2024-01-05,2024-03-31,0",
    # Q2 2024: Ben wins one (12 days, engaged in Q1) and loses one on the quarter's last day
    "B1,Ben Varga,MG Special,Beta,Won,2024-03-20,2024-04-01,50",
    "B2,Ben Varga,MG Special,Beta,Lost,2024-04-02,2024-06-30,0",
    # Q2 2024: Cy wins one without an engage date (no cycle) and loses one on the first day
    "C1,Cy O'Brien,GTK 500,Gamma,Won,,2024-05-05,1000",
    "C2,Cy O'Brien,GTK 500,Gamma,Lost,2024-03-01,2024-04-01,0",
    # open deals: never counted, whatever their dates
    "C3,Cy O'Brien,GTK 500,,Engaging,2024-05-01,,",
    "C4,Cy O'Brien,GTK 500,,Prospecting,,,",
    # Q4 2023: Ana's last win of the previous year (30 days)
    "A4,Ana Abara,GTXPro,Acme,Won,2023-12-01,2023-12-31,10",
]


def tiny_pipeline() -> pd.DataFrame:
    import io

    text = "\n".join([HEADER, *PIPELINE_ROWS]) + "\n"
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return crm_expected.typed_pipeline(frame)


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return crm_expected.expected_figures(tiny_pipeline(), TEAMS)


def test_expected_figures_of_a_rep_in_a_quarter(tiny):
    row = figure_row(tiny, period="FY2024 Q1", level="rep", name="Ana Abara")
    assert (row["won_count"], row["lost_count"]) == (2, 1)
    assert row["win_rate"] == pytest.approx(2 / 3)
    assert row["won_value"] == 400
    assert row["average_deal"] == 200
    assert row["median_cycle_days"] == 15
    assert (str(row["start_on"]), str(row["end_on"])) == ("2024-01-01", "2024-03-31")


def test_expected_figures_of_a_manager_office_and_company_in_a_quarter(tiny):
    # Mo Park's team in Q2 is Ben alone (Ana closed nothing then); the West office is Cy.
    manager = figure_row(tiny, period="FY2024 Q2", level="manager", name="Mo Park")
    assert (manager["won_count"], manager["lost_count"], manager["won_value"]) == (1, 1, 50)
    assert manager["median_cycle_days"] == 12
    west = figure_row(tiny, period="FY2024 Q2", level="office", name="West")
    assert (west["won_count"], west["lost_count"], west["won_value"]) == (1, 1, 1000)
    assert math.isnan(west["median_cycle_days"])  # the one win has no engage date
    company = figure_row(tiny, period="FY2024 Q2", level="company", name="Company")
    assert (company["won_count"], company["lost_count"]) == (2, 2)
    assert company["win_rate"] == 0.5
    assert company["won_value"] == 1050
    assert company["average_deal"] == 525
    assert company["median_cycle_days"] == 12


def test_expected_figures_of_a_year_span_its_quarters_only(tiny):
    company = figure_row(tiny, period="FY2024", level="company", name="Company")
    assert (company["won_count"], company["lost_count"]) == (4, 3)
    assert company["win_rate"] == pytest.approx(4 / 7)
    assert company["won_value"] == 1450
    assert company["average_deal"] == 362.5
    assert company["median_cycle_days"] == 12  # of 10, 20 and 12 days
    # The December win (and its product typo) is the previous year's.
    last_year = figure_row(tiny, period="FY2023 Q4", level="rep", name="Ana Abara")
    assert (last_year["won_count"], last_year["won_value"], last_year["median_cycle_days"]) == (
        1,
        10,
        30,
    )


def test_expected_figures_leave_out_groups_without_closed_deals(tiny):
    with pytest.raises(KeyError):
        figure_row(tiny, period="FY2024 Q1", level="rep", name="Ben Varga")
    assert set(tiny["period"]) == {"FY2023", "FY2023 Q4", "FY2024", "FY2024 Q1", "FY2024 Q2"}


def test_expected_figures_of_lost_deals_only_have_a_zero_win_rate():
    teams = TEAMS.iloc[:1]
    frame = crm_expected.typed_pipeline(
        pd.DataFrame(
            [
                {
                    "opportunity_id": "X",
                    "sales_agent": "Ana Abara",
                    "product": "MG Special",
                    "account": "Acme",
                    "deal_stage": "Lost",
                    "engage_date": "2024-07-01",
                    "close_date": "2024-07-09",
                    "close_value": "0",
                }
            ]
        )
    )
    row = figure_row(
        crm_expected.expected_figures(frame, teams), period="FY2024 Q3", level="rep",
        name="Ana Abara",
    )  # fmt: skip
    assert (row["win_rate"], row["won_value"]) == (0, 0)
    assert math.isnan(row["average_deal"])


def test_expected_figures_of_the_fixture_add_up():
    expected = crm_expected.expected_kpis()
    pipeline, teams = crm_expected.read_export()
    won_rows = (pipeline["deal_stage"] == "Won").sum()
    years = expected[(expected["kind"] == "year") & (expected["level"] == "company")]
    assert list(years["period"]) == ["FY2023", "FY2024"]
    assert years["won_count"].sum() == won_rows
    quarters = expected[expected["kind"] == "quarter"]
    assert sorted(set(quarters["period"])) == [
        f"FY{y} Q{q}" for y in (2023, 2024) for q in range(1, 5)
    ]
    # Each level splits the same deals: reps, managers and offices add up to the company.
    for level in ("rep", "manager", "office"):
        per_level = quarters[quarters["level"] == level].groupby("period")["won_value"].sum()
        company = quarters[quarters["level"] == "company"].set_index("period")["won_value"]
        pd.testing.assert_series_equal(per_level, company, check_names=False)
    assert set(expected.loc[expected["level"] == "office", "name"]) == set(teams["regional_office"])


def test_fixture_files_are_what_the_generator_writes():
    # The committed CSVs come from scripts/dev/make_crm_export.py (seeded): no hand edits.
    result = subprocess.run(
        [sys.executable, "scripts/dev/make_crm_export.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_mismatches_names_each_differing_figure_and_missing_group(tiny):
    # given: the app's figures as a page would show them, two of them wrong and one row missing
    actual = tiny[["period", "level", "name", "won_count", "win_rate", "median_cycle_days"]].copy()
    actual["win_rate"] = actual["win_rate"].round(3)  # shown to a tenth of a percent: agrees
    ana_q1 = (actual["period"] == "FY2024 Q1") & (actual["name"] == "Ana Abara")
    actual.loc[ana_q1, "won_count"] = 3
    west_q2 = (actual["period"] == "FY2024 Q2") & (actual["name"] == "West")
    actual.loc[west_q2, "median_cycle_days"] = 0.0  # the app shows a cycle where none exists
    actual = actual[~((actual["period"] == "FY2023") & (actual["level"] == "company"))]

    found = crm_expected.mismatches(tiny, actual)

    cells = set(zip(found["period"], found["name"], found["figure"], strict=True))
    assert cells == {
        ("FY2024 Q1", "Ana Abara", "won_count"),
        ("FY2024 Q2", "West", "median_cycle_days"),
        ("FY2023", "Company", "won_count"),
        ("FY2023", "Company", "win_rate"),
        ("FY2023", "Company", "median_cycle_days"),
    }


def test_mismatches_is_empty_when_the_app_agrees(tiny):
    assert crm_expected.mismatches(
        tiny, tiny[["period", "level", "name", *crm_expected.FIGURES]]
    ).empty


def test_expected_figures_of_the_fixture_agree_with_a_plain_python_count():
    # A second, loop-by-loop computation over the raw CSV rows (csv + statistics, no pandas).
    import csv
    import statistics
    from collections import defaultdict
    from datetime import date

    with open(crm_expected.FIXTURE_DIR / "sales_pipeline.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    tally: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"won": 0, "lost": 0, "value": 0.0, "cycles": []}
    )
    for row in rows:
        if row["deal_stage"] not in ("Won", "Lost"):
            continue
        closed = date.fromisoformat(row["close_date"])
        quarter = f"FY{closed.year} Q{(closed.month - 1) // 3 + 1}"
        cell = tally[(quarter, row["sales_agent"])]
        if row["deal_stage"] == "Lost":
            cell["lost"] += 1
            continue
        cell["won"] += 1
        cell["value"] += float(row["close_value"])
        if row["engage_date"]:
            cell["cycles"].append((closed - date.fromisoformat(row["engage_date"])).days)
    expected = crm_expected.expected_kpis()
    reps = expected[(expected["kind"] == "quarter") & (expected["level"] == "rep")]

    assert len(reps) == len(tally)
    for (quarter, rep), cell in tally.items():
        row = figure_row(reps, period=quarter, level="rep", name=rep)
        assert (row["won_count"], row["lost_count"]) == (cell["won"], cell["lost"])
        assert row["won_value"] == pytest.approx(cell["value"])
        assert row["win_rate"] == pytest.approx(cell["won"] / (cell["won"] + cell["lost"]))
        if cell["cycles"]:
            assert row["median_cycle_days"] == statistics.median(cell["cycles"])
        else:
            assert math.isnan(row["median_cycle_days"])
