"""plotly figures of the coaching pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesmgmt.charts import blank_figure

QUOTA_MARKER = {"symbol": "line-ew-open", "size": 30, "line": {"width": 3}}
LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
}


# The team dashboard draws these two on every view (it has no cache): built in one step from
# plain lists (see salesmgmt.charts.blank_figure), ~1 ms a chart instead of ~20.


def attainment_figure(team: pd.DataFrame) -> go.Figure:
    """Bookings per rep against their quota and ramped quota."""
    names = team["name"].tolist()
    return blank_figure(
        go.Bar(x=names, y=team["bookings"].tolist(), name="Bookings"),
        go.Scatter(x=names, y=team["quota"].tolist(), name="Quota", mode="markers",
                   marker=QUOTA_MARKER),
        go.Scatter(x=names, y=team["ramped_quota"].tolist(), name="Ramped quota",
                   mode="markers", marker={**QUOTA_MARKER, "color": "#d97706"}),
        title={"text": "Attainment"}, yaxis={"title": {"text": "Reporting currency"}}, **LAYOUT,
    )  # fmt: skip


def categories_figure(team: pd.DataFrame) -> go.Figure:
    """Each rep's period forecast by category, stacked."""
    names = team["name"].tolist()
    return blank_figure(
        *(
            go.Bar(x=names, y=team[column].tolist(), name=label)
            for column, label in (
                ("closed", "Closed"),
                ("commit", "Commit"),
                ("best_case", "Best case"),
                ("pipeline", "Pipeline"),
            )
        ),
        barmode="stack",
        title={"text": "Forecast categories"},
        **LAYOUT,
    )


def waterfall_figure(steps: pd.DataFrame, title: str) -> go.Figure:
    """A bridge: a start, relative steps, a total (the executive rollup draws it on every
    view: built in one step from plain lists, as the two above)."""
    return blank_figure(
        go.Waterfall(x=steps["label"].tolist(), y=steps["amount"].tolist(),
                     measure=steps["measure"].tolist()),
        title={"text": title}, showlegend=False, **LAYOUT,
    )  # fmt: skip


def conversion_figure(comparison: pd.DataFrame, labels: dict[int, str]) -> go.Figure:
    """Stage-to-stage conversion of the rep against the team median."""
    names = [labels.get(int(order), f"Stage {order}") for order in comparison.index]
    figure = blank_figure()
    figure.add_trace(go.Bar(x=names, y=comparison["rep_conversion"], name="Rep"))
    figure.add_trace(go.Bar(x=names, y=comparison["team_conversion"], name="Team median"))
    figure.update_layout(
        title="Stage-to-stage conversion", yaxis_tickformat=".0%", barmode="group", **LAYOUT
    )
    return figure


def trends_figure(trends: pd.DataFrame) -> go.Figure:
    """Win rate and average deal size per quarter (two axes)."""
    figure = blank_figure()
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
    figure = blank_figure(go.Bar(x=list(mix.index), y=list(mix.to_numpy())))
    figure.update_layout(title="Activity mix", showlegend=False, **LAYOUT)
    return figure


def skill_ratings_figure(ratings: pd.DataFrame) -> go.Figure:
    """Each skill's rating over time."""
    figure = blank_figure()
    for skill, rows in ratings.sort_values("rated_on").groupby("skill"):
        figure.add_trace(
            go.Scatter(x=rows["rated_on"], y=rows["rating"], name=str(skill), mode="lines+markers")
        )
    figure.update_layout(title="Skill ratings", yaxis_range=[0, 5.5], **LAYOUT)
    return figure


def ramp_figure(ramp: pd.DataFrame) -> go.Figure:
    """Days to first win per person, new hires highlighted, earlier cohorts' median marked."""
    figure = blank_figure()
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
