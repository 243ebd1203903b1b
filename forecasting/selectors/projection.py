"""The projection of a person's subtree for a period, as the forecast page shows it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from salesmgmt.models import Period, User

from ..models import ForecastRollup, ForecastSource, Scope
from .reads import best_projection_source


@dataclass(frozen=True)
class Projection:
    """The subtree's rollup with the projection the backtest ranks best (``source``)."""

    person: User
    period: Period
    source: str
    rollup: ForecastRollup | None

    @property
    def source_label(self) -> str:
        return str(ForecastSource(self.source).label)

    @property
    def amount(self) -> Decimal | None:
        if self.rollup is None:
            return None
        if self.source == ForecastSource.MODEL_WEIGHTED:
            return self.rollup.projection_weighted_amount
        return self.rollup.projection_run_rate_amount


def projection_for(
    *, person: User, period: Period, team: ForecastRollup | None = None
) -> Projection:
    """The subtree projection of ``person`` (the caller has checked the viewer sees them).

    Queries: the rollup (1, none when ``team`` is given) and the best source (1).
    """
    if team is None:
        team = ForecastRollup.objects.filter(
            person=person, period=period, scope=Scope.SUBTREE
        ).first()
    return Projection(person=person, period=period, source=best_projection_source(), rollup=team)
