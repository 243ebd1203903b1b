"""The figures the KPI pages must show for the CRM export, computed by pandas alone.

Independent of the app on purpose (no import from it): the end-to-end test imports
tests/fixtures/data/crm_export/ through the pages and compares what the KPI pages show with
``expected_kpis()``. Definitions, per calendar quarter and year (fiscal year = calendar year,
named as ``salesmgmt.services.periods_ensure`` names periods: ``FY2024``, ``FY2024 Q1``), for
each rep (``sales_agent``), manager (their agents' deals), regional office (its managers'
agents' deals) and the whole company:

- a deal counts in the period its ``close_date`` falls in; only ``Won`` and ``Lost`` deals;
- win rate = won / (won + lost), by count;
- won value = sum of the won deals' ``close_value``; average deal = won value / won count;
- median sales cycle = median of (close_date - engage_date) in whole days over the won deals
  that have an engage date.

A group with no closed deal in a period has no row; one with lost deals only has a win rate
of 0 and no average deal or cycle (NaN).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "data" / "crm_export"
LEVELS = ("rep", "manager", "office", "company")
COMPANY = "Company"  # the name of the one company-level row in each period
COLUMNS = [
    "period", "kind", "start_on", "end_on", "level", "name", "won_count", "lost_count",
    "win_rate", "won_value", "average_deal", "median_cycle_days",
]  # fmt: skip
FIGURES = ["win_rate", "won_count", "won_value", "average_deal", "median_cycle_days"]


# The answers to the deal file's gaps on the import mapping step (option → answer), as an
# administrator gives them for this export.
DEAL_GAP_ANSWERS = {
    "name": "derived",
    "created_at": "import_time",
    "account": "placeholder",
    "lost_reason": "not_recorded",
    "amount": "list_price",
    "expected_close_on": "quarter_end",
}


def read_export(directory: Path = FIXTURE_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pipeline, teams) read from the export's ``sales_pipeline.csv`` and ``sales_teams.csv``.

    Dates become datetimes (blank → NaT) and ``close_value`` a float (blank → NaN)."""
    pipeline = pd.read_csv(directory / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    teams = pd.read_csv(directory / "sales_teams.csv", dtype=str, keep_default_na=False)
    return typed_pipeline(pipeline), teams


def typed_pipeline(pipeline: pd.DataFrame) -> pd.DataFrame:
    """The export's text columns as dates and numbers (what a CSV reader would make of them)."""
    out = pipeline.copy()
    for column in ("engage_date", "close_date"):
        out[column] = pd.to_datetime(out[column].replace("", None), format="%Y-%m-%d")
    out["close_value"] = pd.to_numeric(out["close_value"].replace("", None), errors="coerce")
    return out


def closed_deals(pipeline: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Won and lost deals with a close date, their people, periods and cycle in days."""
    stage = pipeline["deal_stage"].str.strip().str.casefold()
    closed = pipeline[stage.isin(["won", "lost"]) & pipeline["close_date"].notna()].copy()
    closed["won"] = stage[closed.index] == "won"
    cycle = (closed["close_date"] - closed["engage_date"]).dt.days
    closed["cycle_days"] = cycle.where(closed["won"])
    closed["won_value"] = closed["close_value"].where(closed["won"], 0.0).fillna(0.0)
    closed = closed.merge(
        teams[["sales_agent", "manager", "regional_office"]], on="sales_agent", how="left"
    )
    closed["rep"] = closed["sales_agent"]
    closed["office"] = closed["regional_office"]
    closed["company"] = COMPANY
    when = closed["close_date"].dt
    closed["year"] = "FY" + when.year.astype(str)
    closed["quarter"] = closed["year"] + " Q" + when.quarter.astype(str)
    return closed


def _period_bounds(name: str, kind: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    year = int(name[2:6])
    if kind == "year":
        return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    quarter = int(name[-1])
    start = pd.Timestamp(year, 3 * quarter - 2, 1)
    return start, start + pd.offsets.QuarterEnd(0)


def _grouped(closed: pd.DataFrame, kind: str, level: str) -> pd.DataFrame:
    """One period kind and one level: the figures per (period, name)."""
    rows = closed.dropna(subset=[level])
    groups = rows.groupby([kind, level])
    out = pd.DataFrame(
        {
            "won_count": groups["won"].sum().astype(int),
            "lost_count": (~rows["won"]).groupby([rows[kind], rows[level]]).sum().astype(int),
            "won_value": groups["won_value"].sum(),
            "median_cycle_days": groups["cycle_days"].median(),
        }
    )
    out.index = out.index.set_names(["period", "name"])
    out = out.reset_index()
    out["kind"], out["level"] = kind, level
    return out


def expected_figures(pipeline: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Every (period, level, name) with a closed deal, its figures; see the module docstring.

    ``pipeline``: typed as by ``typed_pipeline``; ``teams``: sales_agent, manager,
    regional_office. Columns: ``COLUMNS``; sorted by kind, period, level, name."""
    closed = closed_deals(pipeline, teams)
    parts = [_grouped(closed, kind, level) for kind in ("quarter", "year") for level in LEVELS]
    out = pd.concat(parts, ignore_index=True)
    decided = out["won_count"] + out["lost_count"]
    out["win_rate"] = out["won_count"] / decided
    out["average_deal"] = (out["won_value"] / out["won_count"]).where(out["won_count"] > 0)
    bounds = [_period_bounds(p, k) for p, k in zip(out["period"], out["kind"], strict=True)]
    out["start_on"] = [b[0].date() for b in bounds]
    out["end_on"] = [b[1].date() for b in bounds]
    out["level"] = pd.Categorical(out["level"], categories=LEVELS, ordered=True)
    out = out.sort_values(["kind", "period", "level", "name"], ignore_index=True)
    out["level"] = out["level"].astype(str)
    return out[COLUMNS]


def expected_kpis(directory: Path = FIXTURE_DIR) -> pd.DataFrame:
    """``expected_figures`` of the export in ``directory`` (the fixture by default)."""
    pipeline, teams = read_export(directory)
    return expected_figures(pipeline, teams)


def figure_row(expected: pd.DataFrame, *, period: str, level: str, name: str) -> dict:
    """The one row of ``expected`` for a period name, level and name, as a dict.

    Raises KeyError when the group closed nothing in the period."""
    found = expected[
        (expected["period"] == period) & (expected["level"] == level) & (expected["name"] == name)
    ]
    if found.empty:
        raise KeyError((period, level, name))
    return found.iloc[0].to_dict()


# How far a figure read from the app may be from the expected one: the pages round (a win
# rate to a tenth of a percent, money to the cent, a cycle to a tenth of a day).
TOLERANCES = {
    "won_count": 0.0,
    "lost_count": 0.0,
    "win_rate": 0.00051,
    # Half a cent, and a hair: 2302.375 stored as 2302.38 is off by 0.005 plus float noise.
    "won_value": 0.0051,
    "average_deal": 0.0051,
    "median_cycle_days": 0.05,
}


def mismatches(
    expected: pd.DataFrame, actual: pd.DataFrame, tolerances: dict[str, float] | None = None
) -> pd.DataFrame:
    """The (period, level, name, figure) cells where ``actual`` differs from ``expected``.

    ``actual``: period, level, name and any of the figures, as read from the app (NaN where it
    shows none). A group in one frame and not in the other counts as a difference of each
    figure. Columns: period, level, name, figure, expected, actual; empty when all agree."""
    tolerances = {**TOLERANCES, **(tolerances or {})}
    keys = ["period", "level", "name"]
    figures = [c for c in actual.columns if c not in keys]
    both = expected[keys + figures].merge(
        actual[keys + figures], on=keys, how="outer", suffixes=("_expected", "_actual")
    )
    found = []
    for figure in figures:
        want = pd.to_numeric(both[f"{figure}_expected"], errors="coerce")
        got = pd.to_numeric(both[f"{figure}_actual"], errors="coerce")
        agree = (want.isna() & got.isna()) | ((want - got).abs() <= tolerances.get(figure, 0.0))
        bad = both.loc[~agree, keys].assign(
            figure=figure, expected=want[~agree], actual=got[~agree]
        )
        found.append(bad)
    columns = [*keys, "figure", "expected", "actual"]
    return pd.concat(found, ignore_index=True)[columns] if found else pd.DataFrame(columns=columns)
