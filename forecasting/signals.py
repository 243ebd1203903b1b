"""Ask for an incremental recompute when something a forecast depends on is saved.

Why signals (an exception to "no logic in signals"): the writes live in other apps'
services (accounts, territories) that other people own; receivers keep forecasting decoupled
from them. They do nothing but register a request after commit. Writes that bypass signals
(``QuerySet.update``, ``bulk_create``, imports) are caught by the nightly full recompute and
the reconciler, so a missed signal costs freshness, never correctness.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Activity, MilestoneCompletion, Opportunity

from .models import ForecastCall
from .services import requests

_state = threading.local()


@contextmanager
def paused() -> Iterator[None]:
    """No recompute requests from these receivers inside (bulk loads, benchmarks)."""
    previous = getattr(_state, "paused", False)
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = previous


def _is_paused() -> bool:
    return getattr(_state, "paused", False)


def _on_deal_change(deal: Opportunity) -> None:
    if _is_paused():
        return
    ids, people = [deal.pk], [deal.owner_id]
    days = [deal.expected_close_on, deal.closed_on]
    transaction.on_commit(
        lambda: requests.request_recompute_for_deals(
            opportunity_ids=ids, person_ids=people, days=days
        )
    )


@receiver(post_save, sender=Opportunity, dispatch_uid="forecasting_opportunity_saved")
def opportunity_saved(sender, instance: Opportunity, **kwargs) -> None:
    _on_deal_change(instance)


@receiver(post_delete, sender=Opportunity, dispatch_uid="forecasting_opportunity_deleted")
def opportunity_deleted(sender, instance: Opportunity, **kwargs) -> None:
    _on_deal_change(instance)


@receiver(post_save, sender=MilestoneCompletion, dispatch_uid="forecasting_milestone_saved")
def milestone_saved(sender, instance: MilestoneCompletion, **kwargs) -> None:
    if _is_paused():
        return
    deal_id = instance.opportunity_id
    transaction.on_commit(lambda: _request_for_deal_id(deal_id))


def _request_for_deal_id(deal_id: int) -> None:
    row = (
        Opportunity.objects.filter(pk=deal_id)
        .values_list("owner_id", "expected_close_on", "closed_on")
        .first()
    )
    if row:
        requests.request_recompute_for_deals(
            opportunity_ids=[deal_id], person_ids=[row[0]], days=[row[1], row[2]]
        )


@receiver(post_save, sender=ForecastCall, dispatch_uid="forecasting_call_saved")
def call_saved(sender, instance: ForecastCall, **kwargs) -> None:
    if _is_paused():
        return
    people, periods = [instance.person_id], [instance.period_id]
    transaction.on_commit(lambda: requests.request_recompute(person_ids=people, period_ids=periods))


def _on_activity_change(activity: Activity) -> None:
    """Activities count in the KPIs only (by kind), not in any rollup: a KPI request suffices."""
    if _is_paused():
        return
    at = activity.occurred_at
    people, days = (
        [activity.owner_id],
        [timezone.localdate(at) if timezone.is_aware(at) else at.date()],
    )
    transaction.on_commit(
        lambda: requests.request_kpis(
            person_ids=people, period_ids=requests.periods_containing(days)
        )
    )


@receiver(post_save, sender=Activity, dispatch_uid="forecasting_activity_saved")
def activity_saved(sender, instance: Activity, **kwargs) -> None:
    _on_activity_change(instance)


@receiver(post_delete, sender=Activity, dispatch_uid="forecasting_activity_deleted")
def activity_deleted(sender, instance: Activity, **kwargs) -> None:
    _on_activity_change(instance)


def connect_quota_signals() -> None:
    """territories' Quota, when that app has one: its changes move attainment and coverage."""
    try:
        from territories.models import Quota  # type: ignore[attr-defined]
    except ImportError:
        return

    def quota_saved(sender, instance, **kwargs) -> None:
        if _is_paused():
            return
        people = [instance.user_id] if hasattr(instance, "user_id") else []
        periods = [instance.period_id] if hasattr(instance, "period_id") else []
        transaction.on_commit(
            lambda: requests.request_recompute(person_ids=people, period_ids=periods)
        )

    post_save.connect(quota_saved, sender=Quota, dispatch_uid="forecasting_quota_saved", weak=False)
