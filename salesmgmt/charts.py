"""The one way a page turns a plotly figure into HTML: template, config and caching.

Each app's ``charts`` module builds its figures (DataFrame in, ``go.Figure`` out) on
``blank_figure()``; its views render them with ``figure_html`` (or ``cached_figure_html``).
plotly.js itself is loaded once by base.html (``uses_charts``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import pandas as pd
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from django.core.cache import cache

# plotly deep-copies a named template into every figure it builds (about 50 ms a chart): the
# figures are built with the empty "none" template and get TEMPLATE's JSON, made once, when
# rendered, so the page shows the same chart.
TEMPLATE = "plotly_white"
CONFIG = {"displaylogo": False, "responsive": True}

# Bump when a figure function cached through cached_figure_html changes how it draws: cached
# HTML of the old look is then never read again (it expires after CHART_CACHE_SECONDS anyway).
CHART_CACHE_VERSION = 2
CHART_CACHE_SECONDS = 60 * 60


def blank_figure(*traces) -> go.Figure:
    """An empty figure (or one of ``traces``) without plotly's default template."""
    return go.Figure(list(traces), layout={"template": "none"})


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


def cached_figure_html(build: Callable[[pd.DataFrame], go.Figure], frame: pd.DataFrame) -> str:
    """``figure_html(build(frame))``, reusing the chart's HTML while ``frame`` holds the same data.

    Building a plotly figure costs ~10 ms a chart and turning it into HTML (with the template
    JSON) a few more; dashboards' frames come from precomputed rows that change a few times a
    day, so most views find the HTML cached. The cached div keeps its id: one key is one
    chart, so a page never shows the same id twice.
    """
    digest = hashlib.sha256(frame.to_json(orient="split").encode()).hexdigest()
    name = f"{build.__module__}.{build.__name__}"
    key = f"charts:{name}:{CHART_CACHE_VERSION}:{plotly.__version__}:{digest}"
    html = cache.get(key)
    if html is None:
        html = figure_html(build(frame))
        cache.set(key, html, CHART_CACHE_SECONDS)
    return html


@functools.cache
def _template_json() -> dict:
    return pio.templates[TEMPLATE].to_plotly_json()
