"""Reusable filters; ``visible_to`` applies the one visibility policy to each model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from salesmgmt.visibility import owned_by_visible

if TYPE_CHECKING:
    from salesmgmt.models import User


def _opportunity_visible(viewer: User) -> Q:
    """Owner-visible deals, plus deals where a visible person is on the opportunity team."""
    if viewer.sees_everyone:
        return Q()
    from .models import OpportunityTeamMember

    team = OpportunityTeamMember.objects.filter(
        owned_by_visible(viewer, "user"), opportunity=OuterRef("pk")
    )
    return owned_by_visible(viewer) | Q(Exists(team))


class OpportunityQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> OpportunityQuerySet:
        return self.filter(_opportunity_visible(viewer))

    def open(self) -> OpportunityQuerySet:
        return self.filter(status="open")

    def closing_between(self, start, end) -> OpportunityQuerySet:
        return self.filter(expected_close_on__gte=start, expected_close_on__lte=end)


class AccountQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> AccountQuerySet:
        """Accounts a visible person owns, or where the viewer can see one of its deals."""
        if viewer.sees_everyone:
            return self
        from .models import Opportunity

        deals = Opportunity.objects.visible_to(viewer).filter(account=OuterRef("pk"))
        return self.filter(owned_by_visible(viewer) | Q(Exists(deals)))


class ContactQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> ContactQuerySet:
        if viewer.sees_everyone:
            return self
        from .models import Account

        return self.filter(account__in=Account.objects.visible_to(viewer).values("pk"))


class ActivityQuerySet(QuerySet):
    def visible_to(self, viewer: User) -> ActivityQuerySet:
        """Activities a visible person logged, or logged on a deal the viewer can see."""
        if viewer.sees_everyone:
            return self
        from .models import Opportunity

        deals = Opportunity.objects.visible_to(viewer).filter(pk=OuterRef("opportunity_id"))
        return self.filter(owned_by_visible(viewer) | Q(Exists(deals)))
