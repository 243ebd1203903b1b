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
