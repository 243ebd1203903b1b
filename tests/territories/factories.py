"""factory_boy factories for the territories models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from territories.models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    Quota,
    Territory,
    TerritoryOwnership,
)
from tests.factories import AccountFactory, UserFactory

LONG_AGO = dt.date(2020, 1, 1)


class TerritoryFactory(factory.django.DjangoModelFactory):
    """A lowest-level territory in effect since 2020, with its first ownership row."""

    class Meta:
        model = Territory
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Territory {n}")
    level = Territory.Level.TERRITORY
    owner = factory.SubFactory(UserFactory)
    effective_from = LONG_AGO

    @factory.post_generation
    def ownership(self, create, extracted, **kwargs):
        if create:
            TerritoryOwnership.objects.create(
                territory=self, owner=self.owner, effective_from=self.effective_from
            )


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n}")
    territory = factory.SubFactory(TerritoryFactory)
    priority = 100

    @factory.post_generation
    def named_accounts(self, create, extracted, **kwargs):
        if create and extracted:
            self.named_accounts.set(extracted)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountTerritoryAssignment

    account = factory.SubFactory(AccountFactory)
    territory = factory.SubFactory(TerritoryFactory)
    effective_from = LONG_AGO
    source = AccountTerritoryAssignment.Source.RULE


class QuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quota

    user = factory.SubFactory(UserFactory)
    basis = Quota.Basis.COMPONENTS
    territory_quota = Decimal("100000.00")
    amount = factory.LazyAttribute(lambda q: q.territory_quota)
