"""Creating an account (its own page) and editing one (a form on the account page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from salesmgmt.decorators import people_only
from salesmgmt.page_actions import submit_form

from .. import selectors, services
from ..forms import AccountForm
from .pages import render_account_detail


@people_only
@require_http_methods(["GET", "HEAD", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "accounts/account_form.html", {"form": AccountForm()})
    form = AccountForm(request.POST)
    account, status = submit_form(
        form, lambda: services.account_create(actor=request.user, **form.account_fields())
    )
    if account is not None:
        messages.success(request, f"Created the account {account}.")
        return redirect("accounts:account_detail", pk=account.pk)
    return render(request, "accounts/account_form.html", {"form": form}, status=status)


@people_only
@require_POST
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(viewer=request.user, pk=pk)
    form = AccountForm(request.POST, auto_id="edit-%s")
    updated, status = submit_form(
        form,
        lambda: services.account_update(
            actor=request.user,
            account=account,
            expected_updated_at=form.cleaned_data["expected_updated_at"],
            **form.account_fields(),
        ),
    )
    if updated is not None:
        messages.success(request, f"Saved {updated}.")
        return redirect("accounts:account_detail", pk=pk)
    return render_account_detail(request, account, status=status, edit_form=form)
