"""factory_boy factories for every core model; tests build data with these only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Contact,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    SalesProcess,
    Stage,
)
from salesmgmt.models import ExchangeRate, Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.REP
    manager = None
    # Keep the materialized path consistent with the manager chain (services do the same).
    ancestor_path = factory.LazyAttribute(lambda u: u.manager.subtree_path if u.manager else "/")
    hire_date = dt.date(2022, 1, 10)
    password = factory.django.Password("pw")

    class Params:
        # Known by name only, as a CRM export's people are: no e-mail, a username to sign in.
        without_email = factory.Trait(
            email="",
            username=factory.LazyAttribute(lambda u: f"{u.first_name}.{u.last_name}".lower()),
        )


class SalesProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesProcess

    name = factory.Sequence(lambda n: f"Process {n}")
    is_default = True


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    process = factory.SubFactory(SalesProcessFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n)


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    stage = factory.SubFactory(StageFactory)
    name = factory.Sequence(lambda n: f"Milestone {n}")
    order = factory.Sequence(lambda n: n)


def build_process(
    *,
    name: str = "Standard",
    stages: tuple[tuple[str, int], ...] | None = None,
    requires_verification: bool = False,
) -> SalesProcess:
    """A process with stages, each with ``n`` exit milestones (the last one needs evidence)."""
    stages = stages or (("Qualify", 2), ("Discover", 2), ("Propose", 1), ("Negotiate", 1))
    process = SalesProcessFactory(name=name, requires_verification=requires_verification)
    for order, (stage_name, count) in enumerate(stages, start=1):
        stage = StageFactory(process=process, name=stage_name, order=order)
        for i in range(count):
            MilestoneFactory(
                stage=stage,
                name=f"{stage_name} #{i + 1}",
                order=i,
                evidence_required=(i == count - 1),
            )
    return process


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    industry = "Software"
    employee_count = 500
    annual_revenue = Decimal("10000000.00")
    country = "US"
    region = "West"
    state = "CA"
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Faker("email")


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A bare row; use accounts.services.opportunity_create when history matters."""

    class Meta:
        model = Opportunity

    owner = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory, owner=factory.SelfAttribute("..owner"))
    process = factory.LazyFunction(
        lambda: SalesProcess.objects.filter(is_default=True).first() or build_process()
    )
    stage = factory.LazyAttribute(lambda o: o.process.stages.order_by("order").first())
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("10000.00")
    currency = "USD"
    expected_close_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class MilestoneCompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MilestoneCompletion

    opportunity = factory.SubFactory(OpportunityFactory)
    milestone = factory.SubFactory(MilestoneFactory)
    completed_by = factory.SelfAttribute("opportunity.owner")
    evidence = "Notes from the call"


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = Activity.Kind.CALL
    owner = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory, owner=factory.SelfAttribute("..owner"))
    opportunity = None
    # What accounts.services.activity_log copies from the deal (a factory skips the service).
    deal_owner = factory.LazyAttribute(lambda a: a.opportunity.owner if a.opportunity else None)
    occurred_at = factory.LazyFunction(timezone.now)
    duration_minutes = 15


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "EUR"
    rate_to_reporting = Decimal("1.10")
    effective_on = dt.date(2020, 1, 1)


def complete_closing_milestones(
    deal: Opportunity, *, actor: User | None = None, at: dt.datetime | None = None
) -> None:
    """Give a deal the closing milestones closing won needs (``opportunity_close_won``), as
    its owner (or ``actor``) would, verified by the owner's manager where the process asks."""
    from accounts import selectors, services

    for milestone in selectors.closing_milestones_missing(opportunity=deal):
        record = services.milestone_complete(
            actor=actor or deal.owner,
            opportunity=deal,
            milestone=milestone,
            evidence="Order form signed by the buyer",
            at=at,
        )
        if record.verification_state == MilestoneCompletion.Verification.PENDING:
            services.milestone_verify(actor=deal.owner.manager, completion=record)
    deal.refresh_from_db()
