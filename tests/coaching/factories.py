"""Factories and builders for coaching tests (core factories live in tests/factories.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from coaching.models import (
    AccountReview,
    CallDebrief,
    DevelopmentPlan,
    Enrolment,
    Programme,
    ProgrammeStep,
    ResourceRequest,
    ScorecardTemplate,
)
from forecasting.models import ForecastRollup, InspectionFlag, KpiSnapshot, Scope
from salesmgmt.models import Period
from salesmgmt.services import periods_ensure
from tests.factories import AccountFactory, OpportunityFactory, UserFactory


def current_quarter(day: dt.date | None = None) -> Period:
    day = day or timezone.localdate()
    periods_ensure(year=day.year)
    periods_ensure(year=day.year - 1)
    return Period.objects.get(kind=Period.Kind.QUARTER, start_on__lte=day, end_on__gte=day)


def default_template() -> ScorecardTemplate:
    return ScorecardTemplate.objects.get(is_default=True)


class AccountReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountReview
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    template = factory.LazyFunction(default_template)
    held_on = factory.LazyFunction(timezone.localdate)
    created_by = factory.SelfAttribute("account.owner")


class CallDebriefFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallDebrief
        skip_postgeneration_save = True

    rep = factory.SubFactory(UserFactory)
    manager = factory.SelfAttribute("rep.manager")
    held_on = factory.LazyFunction(timezone.localdate)
    went_well = "Good discovery questions"
    to_improve = "Talk less about features"


class DevelopmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DevelopmentPlan

    rep = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("rep.manager")
    title = "Discovery skills"
    assessed_needs = "Qualifies on features, not on pain"


class ResourceRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResourceRequest

    opportunity = factory.SubFactory(OpportunityFactory)
    kind = "se_time"
    requested_by = factory.SelfAttribute("opportunity.owner")


def kpi(person, period, *, scope=Scope.OWN, **fields) -> KpiSnapshot:
    row, _ = KpiSnapshot.objects.update_or_create(
        person=person, period=period, scope=scope, defaults=fields
    )
    return row


def rollup(person, period, *, scope=Scope.SUBTREE, **amounts) -> ForecastRollup:
    values = {name: Decimal(str(value)) for name, value in amounts.items()}
    # A recompute (on commit, in transactional tests) may have written the row already.
    row, _ = ForecastRollup.objects.update_or_create(
        person=person, period=period, scope=scope, defaults=values
    )
    return row


def flag(deal, kind: str) -> InspectionFlag:
    return InspectionFlag.objects.create(opportunity=deal, owner=deal.owner, kind=kind)


def team(manager, size: int, *, with_data: bool = True, period: Period | None = None) -> list:
    """``size`` reps under ``manager``, each with a deal, a flag, KPI and rollup rows."""
    reps = []
    for _ in range(size):
        rep = UserFactory(manager=manager)
        if with_data:
            deal = OpportunityFactory(owner=rep)
            flag(deal, "pushed_twice")
            if period is not None:
                kpi(
                    rep,
                    period,
                    stage_conversion={"1": 0.5, "2": 0.4},
                    days_in_stage={"1": 10, "2": 20},
                    activities_by_kind={"call": 3},
                )
                rollup(rep, period, commit_amount=1000, weighted_amount=500, p50_amount=900)
        reps.append(rep)
    return reps


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Programme {n}")
    created_by = factory.SubFactory(UserFactory)
    launched_on = factory.LazyFunction(timezone.localdate)


class ProgrammeStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeStep

    programme = factory.SubFactory(ProgrammeFactory)
    order = factory.Sequence(lambda n: n + 1)
    kind = ProgrammeStep.Kind.MODULE
    title = factory.Sequence(lambda n: f"Step {n}")
    due_after_days = 30


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    programme = factory.SubFactory(ProgrammeFactory)
    rep = factory.SubFactory(UserFactory)
    started_on = factory.LazyFunction(timezone.localdate)
