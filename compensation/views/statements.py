"""Statement pages: my statements, a statement, team review and approval, runs, disputes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.views.pagination import paginate
from salesmgmt.decorators import people_only
from salesmgmt.models import Role
from salesmgmt.page_actions import call_service, call_service_or_flash, id_param
from salesmgmt.selectors import period_get

from .. import selectors, services
from ..forms import (
    AdjustmentForm,
    DisputeForm,
    ResolveForm,
)
from ..models import Dispute, Statement
from ..tasks import run_payouts
from .periods import period_from

# --- statements -------------------------------------------------------------------------------


@people_only
@require_GET
def my_statements(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own statements, newest period first."""
    statements = list(selectors.statement_list(viewer=request.user, rep_id=request.user.pk))
    return render(request, "compensation/my_statements.html", {"statements": statements})


def _render_statement(
    request: HttpRequest,
    statement: Statement,
    *,
    status: int = 200,
    dispute_form: DisputeForm | None = None,
    dispute_line_id: int | None = None,
    approve_form: forms.Form | None = None,
    adjustment_form: AdjustmentForm | None = None,
) -> HttpResponse:
    is_rep = statement.rep_id == request.user.pk
    can_review = not is_rep and (request.user.sees_everyone or request.user.role == Role.MANAGER)
    lines = selectors.statement_lines(statement=statement)
    context = {
        "statement": statement,
        "lines": lines,
        "disputed_line_ids": {
            line.pk
            for line in lines
            for dispute in line.disputes.all()
            if dispute.status == Dispute.Status.OPEN
        },
        "adjustments": selectors.statement_adjustments(statement=statement),
        "is_rep": is_rep,
        "can_dispute": is_rep and statement.status != Statement.Status.DRAFT,
        "can_approve": can_review and statement.status == Statement.Status.PROCESSED,
        "can_adjust": can_review and statement.is_locked,
        "dispute_form": dispute_form or DisputeForm(),
        "dispute_line_id": dispute_line_id,
        "approve_form": approve_form or forms.Form(),
        "adjustment_form": adjustment_form or AdjustmentForm(),
        "payable_amount": statement.total_amount + statement.adjustments_amount,
    }
    return render(request, "compensation/statement_detail.html", context, status=status)


@people_only
@require_GET
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    return _render_statement(request, statement)


@people_only
@require_POST
def statement_approve(request: HttpRequest, pk: int) -> HttpResponse:
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    form = forms.Form(request.POST)
    _, status = call_service(
        form, lambda: services.statement_approve(actor=request.user, statement=statement)
    )
    if status != 200:
        return _render_statement(request, statement, status=status, approve_form=form)
    messages.success(request, f"Approved and locked the statement of {statement.rep}.")
    return redirect("compensation:statement_detail", pk=statement.pk)


@people_only
@require_POST
def statement_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    statement = selectors.statement_get(viewer=request.user, pk=pk)
    form = AdjustmentForm(request.POST)
    status = 400
    if form.is_valid():
        _, status = call_service(
            form,
            lambda: services.statement_adjustment_add(
                actor=request.user, statement=statement, **form.cleaned_data
            ),
        )
    if status != 200:
        return _render_statement(request, statement, status=status, adjustment_form=form)
    messages.success(request, "Adjustment added.")
    return redirect("compensation:statement_detail", pk=statement.pk)


@people_only
@require_GET
def team_statements(request: HttpRequest) -> HttpResponse:
    """Statements to review: a manager's subtree, everyone's for executives and admins."""
    period_form, period = period_from(request)
    statements = selectors.statement_list(viewer=request.user, period=period).exclude(
        rep=request.user
    )
    pager = paginate(request, statements)
    context = {
        "period_form": period_form,
        "period": period,
        "pager": pager,
        "statements": pager.page.object_list,
        "runs": selectors.run_list(period=period) if period else [],
        "can_run": request.user.is_superuser or request.user.role in services.RUN_ROLES,
    }
    return render(request, "compensation/team_statements.html", context)


# --- payout runs (executives and admins) ------------------------------------------------------


def _ensure_can_run(request: HttpRequest) -> None:
    if not (request.user.is_superuser or request.user.role in services.RUN_ROLES):
        raise PermissionDenied("Only executives and admins run payouts.")


@people_only
@require_POST
def run_compute(request: HttpRequest) -> HttpResponse:
    """Queue the period's payout computation on the worker (in-process without Redis)."""
    _ensure_can_run(request)
    # 0, which no period has: a 404 rather than the current quarter when it is missing.
    period = period_get(pk=id_param(request.POST.get("period")) or 0)
    run_payouts.delay(period.pk)
    messages.success(request, f"Payouts for {period} are being computed.")
    return redirect(f"{_team_url()}?period={period.pk}")


@people_only
@require_POST
def run_process(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_can_run(request)
    run = selectors.run_get(pk=pk)
    _, done = call_service_or_flash(
        request, lambda: services.payout_run_process(run=run, actor=request.user)
    )
    if done:
        messages.success(request, f"{run.period} run processed: statements await approval.")
    return redirect(f"{_team_url()}?period={run.period_id}")


def _team_url() -> str:
    return reverse("compensation:team_statements")


# --- disputes ---------------------------------------------------------------------------------


@people_only
@require_POST
def line_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_get(viewer=request.user, pk=pk)
    form = DisputeForm(request.POST)
    status = 400
    if form.is_valid():
        _, status = call_service(
            form,
            lambda: services.dispute_raise(
                actor=request.user, line=line, text=form.cleaned_data["text"]
            ),
        )
    if status != 200:
        statement = selectors.statement_get(viewer=request.user, pk=line.statement_id)
        return _render_statement(
            request, statement, status=status, dispute_form=form, dispute_line_id=line.pk
        )
    messages.success(request, "Dispute raised; your manager will answer it.")
    return redirect("compensation:statement_detail", pk=line.statement_id)


@people_only
@require_GET
def dispute_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    disputes = selectors.dispute_list(
        viewer=request.user, status=status if status != "all" else None
    )
    pager = paginate(request, disputes)
    context = {
        "pager": pager,
        "disputes": pager.page.object_list,
        "status": status,
        "resolve_form": ResolveForm(),
    }
    return render(request, "compensation/dispute_list.html", context)


@people_only
@require_POST
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = selectors.dispute_get(viewer=request.user, pk=pk)
    form = ResolveForm(request.POST)
    status = 400
    if form.is_valid():
        _, status = call_service(
            form,
            lambda: services.dispute_resolve(
                actor=request.user, dispute=dispute, note=form.cleaned_data["note"]
            ),
        )
    if status != 200:
        pager = paginate(
            request,
            selectors.dispute_list(viewer=request.user, status="open"),
            base=reverse("compensation:dispute_list"),
        )
        context = {
            "pager": pager,
            "disputes": pager.page.object_list,
            "status": "open",
            "resolve_form": ResolveForm(),
            "failed_form": form,
            "failed_id": dispute.pk,
        }
        return render(request, "compensation/dispute_list.html", context, status=status)
    messages.success(request, "Dispute resolved.")
    return redirect("compensation:dispute_list")
