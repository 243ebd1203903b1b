"""Reusable filters; ``visible_to`` applies the one visibility policy to each model."""

from __future__ import annotations

import datetime as dt
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

    # The one definition of what keeps a deal current (README, "Staleness"): every page, flag
    # and count that judges recent work reads these two, and reconciliation mirrors them.

    def held(self, *, now: dt.datetime) -> ActivityQuerySet:
        """Activities whose time has come: a meeting scheduled for later (a captured calendar
        event, a planned call) is not work done yet, and counts from its start."""
        return self.filter(occurred_at__lte=now)

    def two_way(self, *, now: dt.datetime) -> ActivityQuerySet:
        """Held activities the customer took part in (``two_way_contact``)."""
        return self.held(now=now).filter(two_way_contact())


def two_way_contact() -> Q:
    """Two-way contact: a reply received (mail from the customer), a meeting or demo held
    (not a no-show), or a call that reached someone. A sent email nobody answered, a task, a
    call with no answer (or with no outcome recorded) is the seller's side only."""
    from .models import Activity

    kind, outcome = Activity.Kind, Activity.Outcome
    return (
        Q(kind=kind.EMAIL, direction=Activity.Direction.INBOUND)
        | (Q(kind__in=[kind.MEETING, kind.DEMO]) & ~Q(outcome=outcome.NO_ANSWER))
        | Q(kind=kind.CALL, outcome__in=TWO_WAY_CALL_OUTCOMES)
    )


# A call's outcomes that say someone answered.
TWO_WAY_CALL_OUTCOMES = ("connected", "positive", "negative")
