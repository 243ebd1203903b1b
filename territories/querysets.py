"""Reusable filters; ``visible_to`` applies salesmgmt.visibility to territories and quotas.

A territory is visible to whoever sees its owner or one of its open overlay sellers; rules and
assignments follow their territory; quotas follow their person.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from salesmgmt.visibility import owned_by_visible

if TYPE_CHECKING:
    from salesmgmt.models import User


def in_effect_on(day: dt.date) -> Q:
    """Rows whose half-open [effective_from, effective_to) covers ``day``."""
    return Q(effective_from__lte=day) & (Q(effective_to__isnull=True) | Q(effective_to__gt=day))


def _territory_visible(viewer: User, prefix: str = "") -> Q:
    if viewer.sees_everyone:
        return Q()
    from .models import TerritoryOverlay

    overlays = TerritoryOverlay.objects.filter(
        owned_by_visible(viewer, "user"),
        effective_to__isnull=True,
        territory=OuterRef(f"{prefix}pk"),
    )
    return owned_by_visible(viewer, f"{prefix}owner") | Q(Exists(overlays))


class TerritoryQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> TerritoryQuerySet:
        return self.filter(_territory_visible(viewer))

    def active_on(self, day: dt.date) -> TerritoryQuerySet:
        return self.filter(in_effect_on(day))

    def leaves(self) -> TerritoryQuerySet:
        return self.filter(level="territory")


class AssignmentRuleQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> AssignmentRuleQuerySet:
        if viewer.sees_everyone:
            return self
        from .models import Territory

        return self.filter(territory__in=Territory.objects.visible_to(viewer).values("pk"))

    def active(self) -> AssignmentRuleQuerySet:
        return self.filter(is_active=True)


class AccountTerritoryAssignmentQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> AccountTerritoryAssignmentQuerySet:
        if viewer.sees_everyone:
            return self
        from .models import Territory

        return self.filter(territory__in=Territory.objects.visible_to(viewer).values("pk"))

    def current(self) -> AccountTerritoryAssignmentQuerySet:
        return self.filter(effective_to__isnull=True)

    def in_effect_on(self, day: dt.date) -> AccountTerritoryAssignmentQuerySet:
        return self.filter(in_effect_on(day))


class QuotaQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> QuotaQuerySet:
        return self.filter(owned_by_visible(viewer, "user"))

    def for_period(self, period_id: int) -> QuotaQuerySet:
        return self.filter(period_id=period_id)
