"""Reads for the organisation core (the company settings: ``company_settings``, re-exported)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from .company_settings import company_settings_get
from .models import (
    ApiToken,
    ImportJob,
    Period,
    StaleMark,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from .services import hash_api_key
from .visibility import visible_users

__all__ = ["company_settings_get"]  # re-exported: the one read of the company settings


def user_list(*, viewer: User) -> QuerySet[User]:
    """People ``viewer`` may see, with their manager loaded."""
    return visible_users(viewer).select_related("manager").order_by("last_name", "first_name", "id")


def user_get(*, viewer: User, pk: int) -> User:
    """A person ``viewer`` may see; otherwise 404."""
    try:
        return user_list(viewer=viewer).get(pk=pk)
    except User.DoesNotExist:
        raise Http404("No such person.") from None


def subtree_user_ids(*, manager: User, include_self: bool = True) -> list[int]:
    """Ids of everyone reporting to ``manager`` at any depth (one indexed query)."""
    ids = list(
        User.objects.filter(ancestor_path__startswith=manager.subtree_path).values_list(
            "id", flat=True
        )
    )
    return [manager.pk, *ids] if include_self else ids


def period_containing(*, day: dt.date, kind: str = Period.Kind.QUARTER) -> Period | None:
    return Period.objects.filter(kind=kind, start_on__lte=day, end_on__gte=day).first()


def period_current(*, day: dt.date | None = None) -> Period | None:
    """The period pages show by default: the quarter containing ``day`` (today).

    Else the latest quarter begun by then, else the latest quarter, else the latest period of
    any kind; None when there is no period at all (1 to 4 queries).
    """
    day = day or timezone.localdate()
    quarters = Period.objects.filter(kind=Period.Kind.QUARTER)
    return (
        period_containing(day=day)
        or quarters.filter(start_on__lte=day).order_by("-start_on").first()
        or quarters.order_by("-start_on").first()
        or Period.objects.order_by("-start_on").first()
    )


def period_get(
    *, pk: int | None = None, day: dt.date | None = None, quarter_only: bool = False
) -> Period:
    """The period ``pk``; without one (None) the current quarter (``period_current``).

    404 when there is none, and with ``quarter_only`` when it is not a quarter.
    """
    period = Period.objects.filter(pk=pk).first() if pk is not None else period_current(day=day)
    if period is None or (quarter_only and period.kind != Period.Kind.QUARTER):
        raise Http404("No such period.")
    return period


@dataclass(frozen=True)
class FiscalYearSummary:
    count: int
    first: Period | None
    last: Period | None


def fiscal_year_summary() -> FiscalYearSummary:
    """How many fiscal years exist, the first and the last (1 query, 3 with years)."""
    years = Period.objects.filter(kind=Period.Kind.YEAR).order_by("start_on")
    first = years.first()
    if first is None:
        return FiscalYearSummary(count=0, first=None, last=None)
    return FiscalYearSummary(count=years.count(), first=first, last=years.last())


def period_pending_changes(*, period: Period) -> int:
    """How many stale marks of the period's figures (rollups, KPIs, attainment, ...) wait for
    their batch or are in one (1 query): while any does, its pages say it is recomputed."""
    return StaleMark.objects.filter(period_key=period.pk).count()


def periods_with_pending(periods: QuerySet[Period]) -> QuerySet[Period]:
    """``periods`` annotated with ``pending_changes`` (their stale marks), in the same query."""
    marks = (
        StaleMark.objects.filter(period_key=OuterRef("pk"))
        .order_by()
        .values("period_key")
        .annotate(n=Count("id"))
        .values("n")
    )
    return periods.annotate(
        pending_changes=Coalesce(Subquery(marks, output_field=IntegerField()), 0)
    )


# --- integrations: every list is the viewer's own ---------------------------------------------


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get(*, user: User, pk: int) -> ApiToken:
    try:
        return api_token_list(user=user).get(pk=pk)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The active token with this key, its user loaded; None for unknown or revoked keys."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_api_key(key), revoked_at__isnull=True)
        .first()
    )


def webhook_subscription_list(*, viewer: User) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(owner=viewer).order_by("id")


def webhook_delivery_list(*, viewer: User) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(subscription__owner=viewer)
        .select_related("subscription")
        .order_by("-created_at", "-id")
    )


def import_job_list(*, viewer: User) -> QuerySet[ImportJob]:
    """The viewer's own imports; the CSV text itself is deferred (it can be large)."""
    return (
        ImportJob.objects.filter(created_by=viewer)
        .select_related("created_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


def import_job_get(*, viewer: User, pk: int) -> ImportJob:
    try:
        return import_job_list(viewer=viewer).get(pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("No such import.") from None
