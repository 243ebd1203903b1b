"""Factories and builders for forecasting tests (core factories live in tests/factories.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Opportunity, OpportunityChange
from forecasting.models import CallLayer, ForecastCall
from salesmgmt.models import Period
from salesmgmt.services import periods_ensure
from tests.factories import AccountFactory, OpportunityFactory, UserFactory


def quarter(day: dt.date) -> Period:
    """The quarter containing ``day`` (periods of its year created on demand)."""
    periods_ensure(year=day.year)
    return Period.objects.get(kind=Period.Kind.QUARTER, start_on__lte=day, end_on__gte=day)


def deal(
    owner,
    amount: str | int = "1000",
    *,
    close_on: dt.date,
    status: str = "open",
    stage=None,
    process=None,
    created_at: dt.datetime | None = None,
    currency: str = "USD",
    category: str = "",
    account=None,
    imported_at: dt.datetime | None = None,
) -> Opportunity:
    """A deal row with its creation logged in the change history (as the services do).

    ``category`` is the rep's choice ("" = none: the stage's default applies); ``imported_at``
    marks it brought in by an import (``created_at`` is then its engage date)."""
    created_at = created_at or timezone.now() - dt.timedelta(days=30)
    kwargs = {"process": process} if process is not None else {}
    if stage is not None:
        kwargs["stage"] = stage
    opp = OpportunityFactory(
        owner=owner,
        account=account or AccountFactory(owner=owner),
        amount=Decimal(str(amount)),
        currency=currency,
        expected_close_on=close_on,
        status=status,
        closed_on=close_on if status != "open" else None,
        created_at=created_at,
        forecast_category=category,
        imported_at=imported_at,
        **kwargs,
    )
    OpportunityChange.objects.bulk_create(
        OpportunityChange(
            opportunity=opp, field=name, new_value=value, changed_at=created_at, changed_by=owner
        )
        for name, value in (
            ("amount", str(opp.amount)),
            ("currency", currency),
            ("expected_close_on", close_on.isoformat()),
            ("stage", str(opp.stage_id or "")),
            ("forecast_category", category),
            ("owner", str(owner.pk)),
            ("status", "open"),
            ("closed_on", ""),
        )
    )
    return opp


class ForecastCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ForecastCall

    person = factory.SubFactory(UserFactory)
    layer = CallLayer.OWNER
    commit_amount = Decimal("1000.00")
    best_case_amount = Decimal("2000.00")
    submitted_by = factory.SelfAttribute("person")
