"""Dashboards: the manager's team, the executive rollup tree, the ramp of new hires."""

from __future__ import annotations

from functools import cached_property

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from salesmgmt.aggregate_version import FRAGMENT_SECONDS, aggregates_version
from salesmgmt.charts import cached_figure_html, figure_html
from salesmgmt.decorators import people_only
from salesmgmt.models import Period, User

from .. import analytics, charts, selectors
from ..selectors.dashboards import FLAG_COLUMNS, TeamRow
from .common import chosen_period, int_param


class TeamFigures:
    """The team dashboard's figures and charts, read only when the page renders them.

    The page caches their rendered HTML under the aggregates' version (see
    salesmgmt.aggregate_version): while nothing they come from has been rewritten, a view
    renders the cached fragment and never reads them.
    """

    def __init__(self, *, manager: User, period: Period) -> None:
        self.manager, self.period = manager, period

    @cached_property
    def _dashboard(self) -> selectors.TeamDashboard:
        return selectors.team_dashboard(manager=self.manager, period=self.period)

    @property
    def rows(self) -> list[TeamRow]:
        return self._dashboard.rows

    @cached_property
    def _frame(self) -> pd.DataFrame:
        return self._dashboard.frame()

    @cached_property
    def attainment_chart(self) -> str:
        return cached_figure_html(charts.attainment_figure, self._frame)

    @cached_property
    def categories_chart(self) -> str:
        return cached_figure_html(charts.categories_figure, self._frame)


@people_only
@require_safe
def team_dashboard(request: HttpRequest) -> HttpResponse:
    """Attainment per rep, forecast categories, coverage, inspection flags, activity."""
    viewer = request.user
    person_id = int_param(request, "person")
    manager = selectors.person_get(viewer=viewer, pk=person_id) if person_id else viewer
    period = chosen_period(request)
    context = {
        "manager": manager,
        "period": period,
        "periods": selectors.trailing_quarters(today=timezone.localdate(), count=8),
        "flag_kinds": FLAG_COLUMNS,
        "fragment_seconds": FRAGMENT_SECONDS,
    }
    if period is not None:
        context |= {
            "dashboard": TeamFigures(manager=manager, period=period),
            "aggregates_version": aggregates_version(manager.pk),
            "uses_charts": True,
        }
    return render(request, "coaching/team_dashboard.html", context)


@people_only
@require_safe
def executive_rollup(request: HttpRequest) -> HttpResponse:
    """The hierarchy as an expandable tree, each node's call, range and attainment."""
    viewer = request.user
    period = chosen_period(request)
    trees = []
    waterfall = ""
    if period is not None:
        for root in selectors.rollup_roots(viewer=viewer):
            node, children = selectors.rollup_children(viewer=viewer, person=root, period=period)
            trees.append((node, children))
        if trees:
            title, steps = selectors.waterfall_frame(node=trees[0][0], children=trees[0][1])
            if len(steps):
                waterfall = figure_html(charts.waterfall_figure(steps, title))
    context = {
        "period": period,
        "periods": selectors.trailing_quarters(today=timezone.localdate(), count=8),
        "trees": trees,
        "waterfall_chart": waterfall,
        "uses_charts": bool(waterfall),
    }
    return render(request, "coaching/executive_rollup.html", context)


@people_only
@require_safe
def rollup_node_children(request: HttpRequest, person_id: int) -> HttpResponse:
    """The rows of one node's direct reports (a server-rendered partial for the tree)."""
    viewer = request.user
    person = selectors.person_get(viewer=viewer, pk=person_id)
    period = chosen_period(request)
    depth = min(int_param(request, "depth") or 1, 12)
    children = []
    if period is not None:
        _node, children = selectors.rollup_children(
            viewer=viewer, person=person, period=period, depth=depth
        )
    # The ids above the new rows (space-separated), so the page can collapse a subtree.
    above = [part for part in request.GET.get("ancestors", "").split() if part.isdigit()][:20]
    ancestors = " ".join([*above, str(person.pk)])
    context = {"children": children, "period": period, "parent": person, "ancestors": ancestors}
    return render(request, "coaching/executive_rollup_rows.html", context)


@people_only
@require_safe
def ramp(request: HttpRequest) -> HttpResponse:
    """New hires' time to first deal and to quota against earlier hire cohorts."""
    frame = analytics.ramp_cohorts(selectors.ramp_frame(viewer=request.user))
    chart = figure_html(charts.ramp_figure(frame)) if len(frame) else ""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    context = {"rows": rows, "chart": chart, "uses_charts": bool(chart)}
    return render(request, "coaching/ramp.html", context)
