"""Factories for compensation records, and helpers that build plans the way admins write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from accounts.models import Opportunity
from compensation.models import ComponentKind, Plan, PlanAssignment, PlanComponent
from territories.models import Quota
from tests.factories import OpportunityFactory

START = dt.date(2026, 1, 1)

# The example: 0-50% at 4%, 50-100% at 8%, above 100% at 12%.
TIERED = {
    "method": "marginal",
    "tiers": [
        {"from_percent": "0", "rate_percent": "4"},
        {"from_percent": "50", "rate_percent": "8"},
        {"from_percent": "100", "rate_percent": "12"},
    ],
}
BANDS = {
    "bands": [
        {"from_percent": "90", "multiplier": "1"},
        {"from_percent": "75", "multiplier": "0.95"},
        {"from_percent": "0", "multiplier": "0.9"},
    ]
}


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    name = factory.Sequence(lambda n: f"Plan {n}")


class PlanComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanComponent

    plan = factory.SubFactory(PlanFactory)
    kind = ComponentKind.COMMISSION
    name = "Commission"
    parameters = factory.LazyFunction(lambda: dict(TIERED))
    effective_from = START


class PlanAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanAssignment

    plan = factory.SubFactory(PlanFactory)
    effective_from = START


def component(plan: Plan, kind: str, parameters: dict, **fields) -> PlanComponent:
    """A component validated as the admin form would (``full_clean`` normalizes the terms)."""
    row = PlanComponentFactory.build(plan=plan, kind=kind, parameters=parameters, **fields)
    row.full_clean()
    row.save()
    return row


def won_deal(owner, amount: str, closed_on: dt.date, **fields) -> Opportunity:
    return OpportunityFactory(
        owner=owner,
        amount=Decimal(amount),
        status=Opportunity.Status.WON,
        closed_on=closed_on,
        **fields,
    )


def quota(user, period, amount: str) -> Quota:
    return Quota.objects.create(
        user=user, period=period, basis=Quota.Basis.EXPLICIT, amount=Decimal(amount)
    )
