"""plotly figures of the forecasting pages: DataFrame in, go.Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from salesmgmt.charts import blank_figure

LAYOUT = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}}


def calibration_figure(buckets: pd.DataFrame) -> go.Figure:
    """Predicted vs actual win rate per bucket, one series per process, against the diagonal."""
    figure = blank_figure()
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
    figure = blank_figure(
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
    figure = blank_figure()
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


def brier_figure(trend: pd.DataFrame) -> go.Figure:
    """The Brier score per quarter of close (lower is better), against a coin flip's 0.25."""
    names = [str(name) for name in trend["name"]]
    return blank_figure(
        go.Scatter(
            x=names,
            y=[float(b) for b in trend["brier"]],
            mode="lines+markers",
            name="Brier score",
            text=[
                f"{n} predictions, {d} deals"
                for n, d in zip(trend["looks"], trend["deals"], strict=True)
            ],
        ),
        go.Scatter(
            x=names,
            y=[0.25] * len(names),
            mode="lines",
            name="50 % for every deal",
            line={"dash": "dot", "color": "#999"},
        ),
        title="Brier score by quarter of close",
        yaxis={"title": "Brier score (lower is better)", "rangemode": "tozero"},
        **LAYOUT,
    )
