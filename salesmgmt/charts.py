"""The one way a page turns a plotly figure into HTML: template and config.

Each app's ``charts`` module builds its figures (DataFrame in, ``go.Figure`` out) on
``blank_figure()``; its views render them with ``figure_html``.
plotly.js itself is loaded once by base.html (``uses_charts``).
"""

from __future__ import annotations

import functools

import plotly.graph_objects as go
import plotly.io as pio

# plotly deep-copies a named template into every figure it builds (about 50 ms a chart): the
# figures are built with the empty "none" template and get TEMPLATE's JSON, made once, when
# rendered, so the page shows the same chart.
TEMPLATE = "plotly_white"
CONFIG = {"displaylogo": False, "responsive": True}


def blank_figure(*traces, **layout) -> go.Figure:
    """An empty figure (or one of ``traces`` with ``layout``) without plotly's default template.

    Cheapest when the traces hold plain lists and come with their layout, all at once:
    ``add_trace``, ``update_layout`` and pandas columns each make plotly copy and validate the
    figure again (~20 ms a chart together, against ~1 ms).
    """
    return go.Figure(list(traces), layout={"template": "none", **layout})


def figure_html(figure: go.Figure) -> str:
    """The figure as a div (no plotly.js), drawn with TEMPLATE."""
    spec = figure.to_plotly_json()
    spec.setdefault("layout", {})["template"] = _template_json()
    return pio.to_html(
        spec,
        full_html=False,
        include_plotlyjs=False,
        config=CONFIG,
        validate=False,  # built and validated as a go.Figure already
    )


@functools.cache
def _template_json() -> dict:
    return pio.templates[TEMPLATE].to_plotly_json()
