"""The dashboard charts' HTML is reused while their data is the same, and looks the same."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from django.core.cache import cache

from coaching import charts
from salesmgmt.charts import cached_figure_html, figure_html

DIV_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def team(bookings: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"name": "Ann", "bookings": bookings, "quota": 100.0, "ramped_quota": 80.0,
             "closed": bookings, "commit": 20.0, "best_case": 5.0, "pipeline": 40.0},
            {"name": "Bob", "bookings": 10.0, "quota": 50.0, "ramped_quota": 50.0,
             "closed": 10.0, "commit": 0.0, "best_case": 0.0, "pipeline": 12.5},
        ]
    )  # fmt: skip


def without_div_id(html: str) -> str:
    return DIV_ID.sub("ID", html)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("build", [charts.attainment_figure, charts.categories_figure])
def test_a_cached_chart_is_the_chart_built_afresh(build):
    fresh = figure_html(build(team(70.0)))

    first = cached_figure_html(build, team(70.0))  # built and stored
    second = cached_figure_html(build, team(70.0))  # read back

    assert without_div_id(first) == without_div_id(fresh)
    assert without_div_id(second) == without_div_id(fresh)


def test_other_data_is_another_chart():
    calls = []

    def build(frame: pd.DataFrame):
        calls.append(frame)
        return charts.attainment_figure(frame)

    cached_figure_html(build, team(70.0))
    cached_figure_html(build, team(70.0))
    assert len(calls) == 1  # the same data: the cached HTML

    changed = cached_figure_html(build, team(75.0))

    assert len(calls) == 2
    fresh = figure_html(charts.attainment_figure(team(75.0)))
    assert without_div_id(changed) == without_div_id(fresh)
