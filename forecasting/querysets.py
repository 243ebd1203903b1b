"""Reusable filters; ``visible_to`` applies salesmgmt.visibility to each forecasting table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from salesmgmt.visibility import owned_by_visible

if TYPE_CHECKING:
    from salesmgmt.models import Period, User


class ForecastCallQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> ForecastCallQuerySet:
        return self.filter(owned_by_visible(viewer, "person"))

    def for_period(self, period: Period) -> ForecastCallQuerySet:
        return self.filter(period=period)


class ForecastRollupQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> ForecastRollupQuerySet:
        return self.filter(owned_by_visible(viewer, "person"))


class InspectionFlagQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> InspectionFlagQuerySet:
        return self.filter(owned_by_visible(viewer))
