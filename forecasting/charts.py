"""plotly figures of the forecasting pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import functools

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

LAYOUT = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}}


def to_html(figure: go.Figure) -> str:
    """The figure as a div; plotly.js itself is loaded once by base.html."""
    spec = figure.to_plotly_json()
    spec["layout"]["template"] = _template_json()
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


def calibration_figure(buckets: pd.DataFrame) -> go.Figure:
    """Predicted vs actual win rate per bucket, one series per process, against the diagonal."""
    figure = _figure()
    figure.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="Perfect", line={"dash": "dot", "color": "#999"}
        )
    )
    for process, rows in buckets.groupby("process"):
        figure.add_trace(
            go.Scatter(
                x=rows["predicted_rate"],
                y=rows["actual_rate"],
                mode="markers+lines",
                name=str(process),
                marker={"size": (rows["count"].clip(upper=400) ** 0.5 + 6).tolist()},
                text=[f"{n} looks" for n in rows["count"]],
            )
        )
    figure.update_layout(
        title="Calibration on held-out deals",
        xaxis_title="Predicted win rate",
        yaxis_title="Actual win rate",
        xaxis_range=[0, 1],
        yaxis_range=[0, 1],
        **LAYOUT,
    )
    return figure


def waterfall_figure(steps: pd.DataFrame) -> go.Figure:
    """Start, each change type, end."""
    figure = _figure(
        go.Waterfall(
            x=steps["label"],
            y=steps["amount"],
            measure=steps["measure"],
            text=[f"{c} deals" if c else "" for c in steps["count"]],
        )
    )
    figure.update_layout(title="Open pipeline: what changed", showlegend=False, **LAYOUT)
    return figure


def range_figure(figures: dict[str, float | None]) -> go.Figure:
    """The P10-P90 range of bookings with the calls and projections marked on it."""
    figure = _figure()
    p10, p90 = figures.get("P10"), figures.get("P90")
    if p10 is not None and p90 is not None:
        figure.add_trace(
            go.Bar(
                x=[p90 - p10],
                base=[p10],
                y=["Range"],
                orientation="h",
                name="P10-P90",
                marker_color="#cfe3f7",
            )
        )
    for name, value in figures.items():
        if value is not None and name not in ("P10", "P90"):
            figure.add_trace(
                go.Scatter(x=[value], y=["Range"], mode="markers", name=name, marker={"size": 12})
            )
    figure.update_layout(
        title="Bookings range (Monte Carlo)", height=220, barmode="overlay", **LAYOUT
    )
    return figure
