"""Plotly only: the feed-back report's charts (DataFrame in, figure out)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesmgmt.charts import blank_figure


def feedback_chart(rows: pd.DataFrame, title: str) -> go.Figure:
    """Won value per row (bars) and the win rate (a line on the right axis)."""
    keys = [str(key) for key in rows["key"]]
    win_rates = [None if pd.isna(v) else round(float(v) * 100, 1) for v in rows["win_rate"]]
    return blank_figure(
        go.Bar(name="Won value", x=keys, y=[float(v) for v in rows["won_value"]]),
        go.Scatter(name="Win rate %", x=keys, y=win_rates, yaxis="y2", mode="lines+markers"),
        height=320,
        margin={"l": 60, "r": 50, "t": 30, "b": 60},
        title={"text": title},
        yaxis={"title": {"text": "Won value"}},
        yaxis2={"title": {"text": "Win rate %"}, "overlaying": "y", "side": "right",
                "rangemode": "tozero"},
        legend={"orientation": "h"},
    )  # fmt: skip


def assumptions_chart(rows: pd.DataFrame) -> go.Figure:
    """Planned against actual win rate per segment and role (grouped bars)."""
    labels = [
        f"{s} · {r.upper()}" for s, r in zip(rows["segment"], rows["sales_role"], strict=True)
    ]

    def percent(column: str) -> list[float | None]:
        return [None if pd.isna(v) else round(float(v) * 100, 1) for v in rows[column]]

    return blank_figure(
        go.Bar(name="Planned win rate %", x=labels, y=percent("planned_win_rate")),
        go.Bar(name="Actual win rate %", x=labels, y=percent("actual_win_rate")),
        barmode="group",
        height=300,
        margin={"l": 50, "r": 10, "t": 30, "b": 60},
        yaxis={"title": {"text": "Win rate %"}},
        legend={"orientation": "h"},
    )
