"""Dashboards: the manager's team, the executive rollup tree, the ramp of new hires."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from salesmgmt.charts import figure_html
from salesmgmt.decorators import page_for, people_only
from salesmgmt.visibility import leads_people

from .. import analytics, charts, selectors
from ..selectors.dashboards import FLAG_COLUMNS
from .common import chosen_period, int_param


@page_for(leads_people, "The team dashboards serve the people who lead a team.")
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
    }
    if period is not None:
        # Read from the precomputed tables on every view, uncached: the figures are as fresh
        # as the aggregates themselves (docs/benchmarks.md: fast enough without a cache).
        dashboard = selectors.team_dashboard(manager=manager, period=period)
        frame = dashboard.frame()
        context |= {
            "dashboard": dashboard,
            "attainment_chart": figure_html(charts.attainment_figure(frame)),
            "categories_chart": figure_html(charts.categories_figure(frame)),
            "uses_charts": True,
        }
    return render(request, "coaching/team_dashboard.html", context)


@page_for(leads_people, "The team dashboards serve the people who lead a team.")
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


@page_for(leads_people, "The team dashboards serve the people who lead a team.")
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
