"""Forecast pages: parse, call a selector or service, render. Visibility via the selectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.views.pagination import paginate
from salesmgmt.charts import figure_html
from salesmgmt.decorators import people_only
from salesmgmt.models import Period, Role, User
from salesmgmt.page_actions import call_service, id_param
from salesmgmt.selectors import period_get, period_pending_changes
from salesmgmt.visibility import can_see_user, manages

from . import charts
from .forms import AdjustForm, CallForm, FlagFilterForm, WaterfallForm, WeekForm
from .models import CallLayer, FlagKind, ForecastSource
from .selectors import calibration as calibration_reads
from .selectors import products, reads, snapshots
from .selectors.projection import projection_for
from .services import calls

FLAGS_PER_PAGE = 50
TREE_ROWS_PER_PAGE = 100
CHANGES_PER_PAGE = 100


def _node_and_period(request: HttpRequest):
    """The person and the period (a year, quarter or month) asked for; 404 for an unknown one."""
    person_id = id_param(request.GET.get("person") or request.POST.get("person"))
    person = reads.person_get(viewer=request.user, pk=person_id) if person_id else request.user
    period = period_get(pk=id_param(request.GET.get("period") or request.POST.get("period")))
    return person, period


def _forecast_url(person: User, period) -> str:
    return f"{reverse('forecasting:forecast')}?person={person.pk}&period={period.pk}"


@dataclass(frozen=True)
class WeekView:
    """The forecast page's past week: the form and, for a valid day, that week's snapshot."""

    form: WeekForm
    snapshot: snapshots.WeekSnapshot | None = None
    # When the week had no snapshot: the latest days one was taken (a hint).
    recent_days: list[dt.date] = field(default_factory=list)

    @property
    def is_invalid(self) -> bool:
        return self.form.is_bound and not self.form.is_valid()


def _week_view(request: HttpRequest, person: User, period, whole_tree: bool) -> WeekView:
    """``?week=YYYY-MM-DD``: the figures of the snapshot taken that week (no query unless
    asked)."""
    if "week" not in request.GET:
        return WeekView(form=WeekForm(today=timezone.localdate(), auto_id="week-%s"))
    form = WeekForm(request.GET, today=timezone.localdate(), auto_id="week-%s")
    if not form.is_valid():
        return WeekView(form=form)
    week = snapshots.week_snapshot(
        person=person, period=period, day=form.cleaned_data["week"], whole_tree=whole_tree
    )
    recent = [] if week.taken_on else snapshots.snapshot_days(limit=6)
    return WeekView(form=form, snapshot=week, recent_days=recent)


def _forecast_context(request: HttpRequest, person: User, period, **forms) -> dict:
    whole_tree = request.GET.get("tree") == "1" or person.role == Role.EXECUTIVE
    # The whole tree of a large organisation runs to thousands of rows (each with a form):
    # they are shown a page at a time, and only the page's figures are read.
    tree = paginate(
        request,
        reads.forecast_people(person=person, whole_tree=whole_tree),
        param="rows",
        per_page=TREE_ROWS_PER_PAGE,
    )
    view = reads.forecast_view(
        viewer=request.user, person=person, period=period, people=list(tree.page.object_list)
    )
    mine = reads.accuracy_of_person(person=person)
    team = view.team
    # The same projection /api/v1/forecast-projection/ answers.
    projected = projection_for(person=person, period=period, team=team)
    projection = projected.amount
    range_html = ""
    if team is not None:
        self_row = view.self_row
        range_html = figure_html(
            charts.range_figure(
                {
                    "P10": float(team.p10_amount),
                    "P50": float(team.p50_amount),
                    "P90": float(team.p90_amount),
                    "Projection": float(projection),
                    "My call": float(self_row.call.commit_amount) if self_row.call else None,
                }
            )
        )
    rows = view.rows
    can_adjust = {row.person.pk for row in rows if manages(request.user, row.person)}
    return {
        "view": view,
        "rows": rows,
        "tree": tree,
        "person": person,
        "period": period,
        "periods": reads.period_choices(),
        "pending_changes": period_pending_changes(period=period),
        "is_quarter": period.kind == Period.Kind.QUARTER,  # calls are per quarter
        "projection": projection,
        "projection_source": projected.source_label,
        "accuracy": mine.to_dict("records"),
        "range_html": range_html,
        "uses_charts": bool(range_html),
        "is_self": person.pk == request.user.pk,
        "call_form": forms.get("call_form") or CallForm(),
        "adjust_form": forms.get("adjust_form"),
        "adjust_person": forms.get("adjust_person"),
        "can_adjust": can_adjust,
        "kpis": reads.kpis_for(person=person, period=period),
        "week": _week_view(request, person, period, whole_tree),
        "whole_tree": whole_tree,
        # Win rate and revenue by product, over the person's subtree (2 queries).
        "product_figures": products.product_figures(period=period, node=person),
    }


@require_GET
@people_only
def forecast(request: HttpRequest) -> HttpResponse:
    """My call and my team's beside the system's projection, range and backtest accuracy."""
    person, period = _node_and_period(request)
    context = _forecast_context(request, person, period)
    # A bad ?week= is bad input: the page says why beside the week picker.
    status = 400 if context["week"].is_invalid else 200
    return render(request, "forecasting/forecast.html", context, status=status)


@require_GET
@people_only
def kpis(request: HttpRequest) -> HttpResponse:
    """KPIs of a period (a year, quarter or month): the person's and each direct report's,
    own deals and team: win rate, won count and value, average deal, median sales cycle."""
    person, period = _node_and_period(request)
    head, reports = reads.kpi_rows(person=person, period=period)
    pager = paginate(request, reports, param="rows", per_page=TREE_ROWS_PER_PAGE)
    context = {
        "person": person,
        "period": period,
        "periods": reads.period_choices(),
        "pending_changes": period_pending_changes(period=period),
        "head": head,
        "rows": reads.kpi_rows_of(people=list(pager.page.object_list), period=period),
        "tree": pager,
    }
    return render(request, "forecasting/kpis.html", context)


@require_POST
@people_only
def call_submit(request: HttpRequest) -> HttpResponse:
    period = period_get(pk=id_param(request.POST.get("period")), quarter_only=True)
    form = CallForm(request.POST)
    if form.is_valid():
        submitted, _ = call_service(
            form, lambda: calls.call_submit(actor=request.user, period=period, **form.cleaned_data)
        )
        if submitted is not None:
            messages.success(request, "Your call is submitted.")
            return redirect(_forecast_url(request.user, period))
    context = _forecast_context(request, request.user, period, call_form=form)
    return render(request, "forecasting/forecast.html", context, status=400)


@require_POST
@people_only
def call_adjust(request: HttpRequest, person_id: int) -> HttpResponse:
    person = reads.person_get(viewer=request.user, pk=person_id)
    period = period_get(pk=id_param(request.POST.get("period")), quarter_only=True)
    form = AdjustForm(request.POST)
    status = 400
    if form.is_valid():
        adjusted, status = call_service(
            form,
            lambda: calls.call_adjust(
                actor=request.user, person=person, period=period, **form.cleaned_data
            ),
        )
        if adjusted is not None:
            messages.success(request, f"{person}'s call is adjusted.")
            return redirect(_forecast_url(person.manager or request.user, period))
    viewer_node = person.manager if person.manager_id else request.user
    if not can_see_user(request.user, viewer_node):
        viewer_node = request.user
    context = _forecast_context(
        request, viewer_node, period, adjust_form=form, adjust_person=person
    )
    return render(request, "forecasting/forecast.html", context, status=status)


@require_GET
@people_only
def calibration(request: HttpRequest) -> HttpResponse:
    """Predicted vs actual win rate on held-out deals, and the Brier score by quarter."""
    buckets = reads.calibration_frame()
    chart = figure_html(charts.calibration_figure(buckets)) if len(buckets) else ""
    brier = calibration_reads.brier_summary(today=timezone.localdate())
    brier_chart = figure_html(charts.brier_figure(brier.trend)) if len(brier.trend) else ""
    return render(
        request,
        "forecasting/calibration.html",
        {
            "chart": chart,
            "buckets": buckets.to_dict("records"),
            "brier": brier,
            "brier_chart": brier_chart,
            "uses_charts": bool(chart or brier_chart),
        },
    )


@require_GET
@people_only
def waterfall(request: HttpRequest) -> HttpResponse:
    """What changed in the period's open pipeline between any two dates."""
    person, period = _node_and_period(request)
    today = timezone.localdate()
    initial = {"start": max(period.start_on, today - dt.timedelta(days=7)), "end": today}
    form = WaterfallForm(request.GET if "start" in request.GET else None, initial=initial)
    steps = changes = None
    chart = ""
    if form.is_bound and not form.is_valid():
        bounds = None
    else:
        data = form.cleaned_data if form.is_bound else initial
        bounds = (_end_of(data["start"]), _end_of(data["end"]))
    if bounds:
        steps, changes = reads.waterfall_for(
            person=person, period=period, start_at=bounds[0], end_at=bounds[1]
        )
        chart = figure_html(charts.waterfall_figure(steps))
    return render(
        request,
        "forecasting/waterfall.html",
        {
            "form": form,
            "person": person,
            "period": period,
            "periods": reads.period_choices(),
            "pending_changes": period_pending_changes(period=period),
            "chart": chart,
            "uses_charts": bool(chart),
            "steps": steps.to_dict("records") if steps is not None else [],
            # Company-wide, a week changes thousands of deals: the largest drops first, a
            # page at a time.
            "changes": paginate(
                request,
                changes.sort_values("delta").to_dict("records") if changes is not None else [],
                param="changes",
                per_page=CHANGES_PER_PAGE,
            ),
        },
    )


def _end_of(day: dt.date) -> dt.datetime:
    """The end of a calendar day in the current time zone: "as of that date"."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


@require_GET
@people_only
def flags(request: HttpRequest) -> HttpResponse:
    """Inspection flags of the deals in the person's subtree (paginated)."""
    person_id = id_param(request.GET.get("person"))
    person = reads.person_get(viewer=request.user, pk=person_id) if person_id else request.user
    form = FlagFilterForm(request.GET)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    page = Paginator(
        reads.flag_list(viewer=request.user, person=person, kind=kind, imported_apart=True),
        FLAGS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    imported = reads.flag_list(viewer=request.user, person=person, kind=FlagKind.IMPORTED_UNWORKED)
    context = {
        "page": page,
        "form": form,
        "person": person,
        "is_imported": kind == FlagKind.IMPORTED_UNWORKED,
        "imported_count": 0 if kind else imported.count(),
        "imported_kind": FlagKind.IMPORTED_UNWORKED,
    }
    return render(request, "forecasting/flags.html", context)


@require_GET
@people_only
def accuracy(request: HttpRequest) -> HttpResponse:
    """The accuracy ledger: each source's backtest per person, with over- and under-callers."""
    person_id = id_param(request.GET.get("person"))
    person = reads.person_get(viewer=request.user, pk=person_id) if person_id else request.user
    summary = reads.accuracy_summary(viewer=request.user, person=person)
    names = {u.pk: u for u in User.objects.filter(pk__in=summary["person_id"].tolist())}
    rows = [
        {
            **row,
            "person": names.get(row["person_id"]),
            "source_label": ForecastSource(row["source"]).label,
        }
        for row in summary.sort_values(["person_id", "source"]).to_dict("records")
    ]
    return render(
        request,
        "forecasting/accuracy.html",
        {
            "rows": rows,
            "person": person,
            "best": ForecastSource(reads.best_projection_source()).label,
            "layers": CallLayer,
        },
    )
