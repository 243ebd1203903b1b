"""plotly figures of the territory pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 60}, "template": "plotly_white"}


def to_html(figure: go.Figure) -> str:
    """The figure as a div; plotly.js itself is loaded once by base.html (``uses_charts``)."""
    return pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True},
    )


def balance_figure(table: pd.DataFrame, *, currency: str) -> go.Figure:
    """Potential and open pipeline per territory, side by side (balance_table columns)."""
    names = table["name"].astype(str).tolist()
    figure = go.Figure()
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
