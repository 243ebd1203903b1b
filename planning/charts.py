"""Plotly only: the people each method and each scenario needs against today's."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .engine.sizing import QUOTA_ROLES, Sizing

LABELS = {"sdr": "SDR", "ae": "AE", "am": "AM", "se": "SE"}


def sizing_chart(named: list[tuple[str, Sizing]]) -> go.Figure:
    """Grouped bars: people per role by workload (per sizing), revenue reps, and today."""
    fig = go.Figure()
    first = named[0][1]
    roles = [*(LABELS[r] for r in first.by_role["sales_role"]), "Quota carriers"]
    fig.add_bar(
        name="Today",
        x=roles,
        y=[*first.by_role["today"].tolist(), first.quota_carriers_today],
        marker_color="#9aa5b1",
    )
    for name, sizing in named:
        fig.add_bar(
            name=name,
            x=roles,
            y=[*sizing.by_role["people"].tolist(), sizing.revenue_reps or 0],
        )
    fig.update_layout(
        barmode="group",
        height=340,
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        yaxis_title="People",
        title=f"Workload per role; revenue: {' + '.join(r.upper() for r in QUOTA_ROLES)}",
    )
    return fig


def capacity_chart(months: pd.DataFrame) -> go.Figure:
    """Cumulative ramped capacity against the cumulative target, month by month."""
    fig = go.Figure()
    labels = [month.strftime("%b %Y") for month in months["month"]]
    fig.add_scatter(name="Ramped capacity", x=labels, y=months["cumulative_capacity"])
    fig.add_scatter(name="Target", x=labels, y=months["cumulative_target"], line={"dash": "dash"})
    fig.update_layout(
        height=320, margin={"l": 60, "r": 10, "t": 30, "b": 40}, yaxis_title="Cumulative"
    )
    return fig
