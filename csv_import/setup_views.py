"""The setup checklist page and its API twin (administrators only), and the one button it
offers itself: create this fiscal year's periods (the company page generates any range)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt import fiscal_calendar, selectors, services
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash
from salesmgmt.visibility import administers

from .selectors.setup import ChecklistItem, setup_checklist

REFUSED = "Only an administrator sees the setup checklist."


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @people_only
    @wraps(view)
    def wrapper(request, *args, **kwargs) -> HttpResponse:
        if not administers(request.user):
            raise PermissionDenied(REFUSED)
        return view(request, *args, **kwargs)

    return wrapper


def _as_dict(item: ChecklistItem) -> dict[str, object]:
    return {
        "key": item.key,
        "title": item.title,
        "done": item.done,
        "detail": item.detail,
        "fix_url": reverse(item.fix_url_name),
        "fix_label": item.fix_label,
        "optional": item.optional,
    }


@admin_only
def setup_checklist_page(request: HttpRequest) -> HttpResponse:
    items = [_as_dict(item) for item in setup_checklist()]
    context = {
        "items": items,
        "missing": sum(not item["done"] and not item["optional"] for item in items),
        "year": timezone.localdate().year,
    }
    return render(request, "csv_import/setup_checklist.html", context)


@admin_only
@require_POST
def setup_periods(request: HttpRequest) -> HttpResponse:
    """Create this fiscal year's periods (year, quarters, months) on the company's calendar;
    existing ones are kept."""
    start_month = selectors.company_settings_get().fiscal_year_start_month
    year = fiscal_calendar.fiscal_year_of(timezone.localdate(), start_month=start_month)
    _, ok = call_service_or_flash(
        request,
        lambda: services.periods_generate(actor=request.user, first_year=year, last_year=year),
    )
    if ok:
        messages.success(request, f"The FY{year} fiscal periods are in place.")
    return redirect("setup_checklist")


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    done = serializers.BooleanField()
    detail = serializers.CharField()
    fix_url = serializers.CharField(help_text="The page where this is set up.")
    fix_label = serializers.CharField()
    optional = serializers.BooleanField(help_text="Not needed to be complete.")


class SetupChecklistSerializer(serializers.Serializer):
    complete = serializers.BooleanField()
    items = ChecklistItemSerializer(many=True)


class SetupChecklistView(APIView):
    """What a new company has set up and what is missing (administrators only)."""

    @extend_schema(responses=SetupChecklistSerializer)
    def get(self, request):
        if not administers(request.user):
            raise ApiPermissionDenied(REFUSED)
        items = [_as_dict(item) for item in setup_checklist()]
        body = {
            "complete": all(item["done"] or item["optional"] for item in items),
            "items": items,
        }
        return Response(SetupChecklistSerializer(body).data)
