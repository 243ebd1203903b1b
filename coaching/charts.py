"""plotly figures of the coaching pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import pandas as pd
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from django.core.cache import cache

QUOTA_MARKER = {"symbol": "line-ew-open", "size": 30, "line": {"width": 3}}
LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
}


def to_html(figure: go.Figure) -> str:
    """The figure as a div; plotly.js itself is loaded once by base.html."""
    return _spec_html(figure.to_plotly_json())


# Bump when a figure function cached through cached_html changes how it draws: cached HTML
# of the old look is then never read again (it expires after CHART_CACHE_SECONDS anyway).
CHART_CACHE_VERSION = 2
CHART_CACHE_SECONDS = 60 * 60


def cached_html(build: Callable[[pd.DataFrame], go.Figure], frame: pd.DataFrame) -> str:
    """``to_html(build(frame))``, reusing the chart's HTML while ``frame`` holds the same data.

    Building a plotly figure costs ~10 ms a chart and turning it into HTML (with the template
    JSON) a few more; the dashboards' frames come from precomputed rows that change a few
    times a day, so most views find the HTML cached. The cached div keeps its id: one key is
    one chart, so a page never shows the same id twice.
    """
    digest = hashlib.sha256(frame.to_json(orient="split").encode()).hexdigest()
    name = f"{build.__module__}.{build.__name__}"
    key = f"charts:{name}:{CHART_CACHE_VERSION}:{plotly.__version__}:{digest}"
    html = cache.get(key)
    if html is None:
        html = to_html(build(frame))
        cache.set(key, html, CHART_CACHE_SECONDS)
    return html


def _spec_html(spec: dict) -> str:
    spec.setdefault("layout", {})["template"] = _template_json()
    return pio.to_html(
        spec,
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True},
        validate=False,  # built and validated as a go.Figure already
    )


# plotly deep-copies a named template into every figure it builds (about 50 ms a chart): the
# figures are built with the empty "none" template and get TEMPLATE's JSON, made once, when
# rendered, so the page shows the same chart.
TEMPLATE = "plotly_white"


@functools.cache
def _template_json() -> dict:
    return pio.templates[TEMPLATE].to_plotly_json()


def _figure(*traces) -> go.Figure:
    """An empty figure (or one of ``traces``) without plotly's default template."""
    return go.Figure(list(traces), layout={"template": "none"})


def attainment_figure(team: pd.DataFrame) -> go.Figure:
    """Bookings per rep against their quota and ramped quota."""
    figure = _figure()
    figure.add_trace(go.Bar(x=team["name"], y=team["bookings"], name="Bookings"))
    figure.add_trace(
        go.Scatter(x=team["name"], y=team["quota"], name="Quota", mode="markers",
                   marker=QUOTA_MARKER)
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=team["name"], y=team["ramped_quota"], name="Ramped quota", mode="markers",
                   marker={**QUOTA_MARKER, "color": "#d97706"})
    )  # fmt: skip
    figure.update_layout(title="Attainment", yaxis_title="Reporting currency", **LAYOUT)
    return figure


def categories_figure(team: pd.DataFrame) -> go.Figure:
    """Each rep's period forecast by category, stacked."""
    figure = _figure()
    for column, label in (
        ("closed", "Closed"),
        ("commit", "Commit"),
        ("best_case", "Best case"),
        ("pipeline", "Pipeline"),
    ):
        figure.add_trace(go.Bar(x=team["name"], y=team[column], name=label))
    figure.update_layout(barmode="stack", title="Forecast categories", **LAYOUT)
    return figure


def waterfall_figure(steps: pd.DataFrame, title: str) -> go.Figure:
    """A bridge: a start, relative steps, a total."""
    figure = _figure(go.Waterfall(x=steps["label"], y=steps["amount"], measure=steps["measure"]))
    figure.update_layout(title=title, showlegend=False, **LAYOUT)
    return figure


def conversion_figure(comparison: pd.DataFrame, labels: dict[int, str]) -> go.Figure:
    """Stage-to-stage conversion of the rep against the team median."""
    names = [labels.get(int(order), f"Stage {order}") for order in comparison.index]
    figure = _figure()
    figure.add_trace(go.Bar(x=names, y=comparison["rep_conversion"], name="Rep"))
    figure.add_trace(go.Bar(x=names, y=comparison["team_conversion"], name="Team median"))
    figure.update_layout(
        title="Stage-to-stage conversion", yaxis_tickformat=".0%", barmode="group", **LAYOUT
    )
    return figure


def trends_figure(trends: pd.DataFrame) -> go.Figure:
    """Win rate and average deal size per quarter (two axes)."""
    figure = _figure()
    figure.add_trace(
        go.Scatter(
            x=trends["period_name"], y=trends["win_rate"], name="Win rate", mode="lines+markers"
        )
    )
    figure.add_trace(
        go.Scatter(x=trends["period_name"], y=trends["average_deal"], name="Average deal",
                   mode="lines+markers", yaxis="y2")
    )  # fmt: skip
    figure.update_layout(
        title="Win rate and deal size",
        yaxis={"tickformat": ".0%", "title": "Win rate"},
        yaxis2={"overlaying": "y", "side": "right", "title": "Average deal"},
        **LAYOUT,
    )
    return figure


def activity_mix_figure(mix: pd.Series) -> go.Figure:
    figure = _figure(go.Bar(x=list(mix.index), y=list(mix.to_numpy())))
    figure.update_layout(title="Activity mix", showlegend=False, **LAYOUT)
    return figure


def skill_ratings_figure(ratings: pd.DataFrame) -> go.Figure:
    """Each skill's rating over time."""
    figure = _figure()
    for skill, rows in ratings.sort_values("rated_on").groupby("skill"):
        figure.add_trace(
            go.Scatter(x=rows["rated_on"], y=rows["rating"], name=str(skill), mode="lines+markers")
        )
    figure.update_layout(title="Skill ratings", yaxis_range=[0, 5.5], **LAYOUT)
    return figure


def ramp_figure(ramp: pd.DataFrame) -> go.Figure:
    """Days to first win per person, new hires highlighted, earlier cohorts' median marked."""
    figure = _figure()
    for is_new, label in ((False, "Earlier hires"), (True, "New hires")):
        rows = ramp[ramp["is_new_hire"] == is_new]
        figure.add_trace(
            go.Bar(x=rows["name"], y=rows["days_to_first_win"], name=label,
                   text=rows["hire_cohort"])
        )  # fmt: skip
    figure.add_trace(
        go.Scatter(x=ramp["name"], y=ramp["cohort_first_win"], name="Earlier cohorts' median",
                   mode="markers", marker={"symbol": "line-ew-open", "size": 28})
    )  # fmt: skip
    figure.update_layout(title="Days to first deal", **LAYOUT)
    return figure
