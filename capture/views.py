"""Capture pages: the person's unfiled items (file in one click, delete) and their settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Opportunity
from accounts.views.pagination import paginate
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash, submit_form
from salesmgmt.visibility import may_capture

from . import selectors, services
from .forms import CalendarSubscribeForm, CalendarUploadForm, CaptureSettingsForm, FileItemForm
from .models import CapturedItem, CaptureSettings


def _ensure_may_capture(request: HttpRequest) -> None:
    if not may_capture(request.user):
        raise Http404("No capture for this account.")


@people_only
def unfiled(request: HttpRequest) -> HttpResponse:
    _ensure_may_capture(request)
    items = selectors.captured_items(viewer=request.user, status=CapturedItem.Status.UNFILED)
    pager = paginate(request, items)
    rows = selectors.filing_rows(viewer=request.user, items=pager.page.object_list)
    return render(request, "capture/unfiled.html", {"items": pager, "rows": rows})


def _item_or_404(request: HttpRequest, pk: int) -> CapturedItem:
    item = selectors.captured_item_get(viewer=request.user, pk=pk)
    if item is None:
        raise Http404("No such captured item.")
    return item


@people_only
@require_POST
def item_file(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    form = FileItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a deal to file it on.")
        return redirect("capture:unfiled")
    deal = (
        Opportunity.objects.visible_to(request.user)
        .filter(pk=form.cleaned_data["opportunity"])
        .first()
    )
    if deal is None:
        messages.error(request, "No such deal.")
        return redirect("capture:unfiled")
    filed, ok = call_service_or_flash(
        request,
        lambda: services.captured_item_file(actor=request.user, item=item, opportunity=deal),
    )
    if ok and filed is not None:
        messages.success(request, f"Filed “{item.subject or 'no subject'}” on {deal}.")
    return redirect("capture:unfiled")


@people_only
@require_POST
def item_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    _, ok = call_service_or_flash(
        request,
        lambda: services.captured_item_delete(actor=request.user, item=item),
    )
    if ok:
        messages.success(request, "Deleted the captured item and its activity.")
    target = request.POST.get("next", "")
    return redirect(target if target == reverse("capture:settings") else "capture:unfiled")


@people_only
def capture_settings(request: HttpRequest) -> HttpResponse:
    _ensure_may_capture(request)
    status = 200
    if request.method == "POST" and "rotate" in request.POST:
        services.capture_token_rotate(user=request.user)
        messages.success(request, "New capture address: the old one no longer takes mail.")
        return redirect("capture:settings")
    if request.method == "POST":
        form = CaptureSettingsForm(request.POST)
        saved, status = submit_form(
            form,
            lambda: services.capture_settings_update(user=request.user, **form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, "Capture settings saved.")
            return redirect("capture:settings")
    else:
        form = None
        # The address is made on the first visit (one row a person, idempotent).
        services.capture_settings_ensure(user=request.user)
    return render_settings(request, _settings_or_new(request), form=form, status=status)


def _settings_or_new(request: HttpRequest) -> CaptureSettings:
    """The person's settings; unsaved defaults when a refused form is shown before they had
    any (a refused request writes nothing)."""
    return selectors.capture_settings_of(request.user) or CaptureSettings(user=request.user)


def render_settings(
    request: HttpRequest,
    capture: CaptureSettings,
    *,
    form: CaptureSettingsForm | None = None,
    subscribe_form: CalendarSubscribeForm | None = None,
    upload_form: CalendarUploadForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "capture": capture,
        "form": form
        or CaptureSettingsForm(
            initial={
                "is_paused": capture.is_paused,
                "excluded_domains": "\n".join(capture.excluded_domains),
            }
        ),
        "subscriptions": selectors.calendar_subscriptions(viewer=request.user),
        "subscribe_form": subscribe_form or CalendarSubscribeForm(),
        "upload_form": upload_form or CalendarUploadForm(),
    }
    return render(request, "capture/settings.html", context, status=status)


@people_only
@require_POST
def calendar_subscribe(request: HttpRequest) -> HttpResponse:
    _ensure_may_capture(request)
    form = CalendarSubscribeForm(request.POST)
    added, status = submit_form(
        form,
        lambda: services.calendar_subscription_add(user=request.user, **form.cleaned_data),
    )
    if added is not None:
        messages.success(request, f"Subscribed {added}: its meetings appear within minutes.")
        return redirect("capture:settings")
    return render_settings(request, _settings_or_new(request), subscribe_form=form, status=status)


@people_only
@require_POST
def calendar_unsubscribe(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = selectors.calendar_subscriptions(viewer=request.user).filter(pk=pk).first()
    if subscription is None:
        raise Http404("No such calendar.")
    services.calendar_subscription_remove(user=request.user, subscription=subscription)
    messages.success(request, f"Unsubscribed {subscription}.")
    return redirect("capture:settings")


@people_only
@require_POST
def calendar_upload(request: HttpRequest) -> HttpResponse:
    _ensure_may_capture(request)
    form = CalendarUploadForm(request.POST, request.FILES)
    result, status = submit_form(
        form,
        lambda: services.calendar_upload(user=request.user, data=form.cleaned_data["file"].read()),
    )
    if result is not None:
        messages.success(
            request,
            f"Calendar read: {result.created} new, {result.updated} moved, "
            f"{result.removed} removed meetings.",
        )
        return redirect("capture:settings")
    return render_settings(request, _settings_or_new(request), upload_form=form, status=status)
