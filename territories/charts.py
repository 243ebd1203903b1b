"""plotly figures of the territory pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesmgmt.charts import blank_figure

LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 60}}


def balance_figure(table: pd.DataFrame, *, currency: str) -> go.Figure:
    """Potential and open pipeline per territory, side by side (balance_table columns)."""
    names = table["name"].astype(str).tolist()
    figure = blank_figure()
    figure.add_trace(go.Bar(x=names, y=[float(v) for v in table["potential"]], name="Potential"))
    figure.add_trace(go.Bar(x=names, y=[float(v) for v in table["pipeline"]], name="Open pipeline"))
    figure.update_layout(
        title="Potential and pipeline per territory",
        barmode="group",
        yaxis_title=currency,
        legend={"orientation": "h", "y": -0.2},
        **LAYOUT,
    )
    return figure


def balance_trend_figure(rows: pd.DataFrame) -> go.Figure:
    """Each territory's weekly balance index (1 = the mean potential), inside the band's
    lines (1 ± band of the latest week): a line leaving the band is drift to act on."""
    traces = []
    for name, weekly in rows.groupby("name", sort=True):
        traces.append(
            go.Scatter(
                x=[str(day) for day in weekly["week_start"]],
                y=[float(v) for v in weekly["balance_index"]],
                mode="lines+markers",
                name=str(name),
            )
        )
    band = float(rows["band"].iloc[-1]) if len(rows) else 0.0
    lines = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": level,
            "y1": level,
            "line": {"dash": "dot", "color": "#999"},
        }
        for level in (1 - band, 1 + band)
    ]
    return blank_figure(
        *traces,
        title="Balance index by week",
        yaxis={"title": "Balance index (1 = mean potential)", "rangemode": "tozero"},
        shapes=lines,
        showlegend=True,  # a single territory's line still names it
        legend={"orientation": "h", "y": -0.25},
        **LAYOUT,
    )
