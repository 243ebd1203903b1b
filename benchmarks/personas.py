"""Who the benchmark measures: typical personas, and a smaller one of each kind.

The smaller persona (a manager with the fewest reports, a rep with the fewest open deals) is
measured only for its query count: a page whose count differs between the two grows with data.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Account, Activity, Opportunity
from salesmgmt.models import Role, User

SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)


@dataclass
class Personas:
    executive: User
    manager: User
    small_manager: User
    rep: User
    small_rep: User
    opportunity: Opportunity
    small_opportunity: Opportunity
    account: Account
    small_account: Account
    activity: Activity


def _typical_and_smallest(counts: dict[int, int]) -> tuple[int, int]:
    """The id whose count is nearest the median, and the id with the smallest count."""
    if not counts:
        raise CommandError("The database has no data to measure: run seed_demo first.")
    median = statistics.median(counts.values())
    typical = min(counts, key=lambda pk: (abs(counts[pk] - median), pk))
    smallest = min(counts, key=lambda pk: (counts[pk], pk))
    return typical, smallest


def top_executive() -> User:
    """The top-level executive with the largest organisation (who sees every deal)."""
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True, manager__isnull=True)
    executive = max(
        executives.order_by("pk"),
        key=lambda e: User.objects.filter(ancestor_path__startswith=e.subtree_path).count(),
        default=None,
    )
    if executive is None:
        raise CommandError("No top-level executive: run seed_demo first.")
    return executive


def pick_personas() -> Personas:
    """Read-only picks from the seeded data (a handful of aggregate queries)."""
    executive = top_executive()
    team_sizes = dict(
        User.objects.filter(manager__role=Role.MANAGER, is_active=True, role__in=SELLING_ROLES)
        .values_list("manager_id")
        .annotate(n=Count("id"))
    )
    # The smaller team is the one with the fewest open deals (the seed's teams are often all
    # the same size), among teams with some: an empty team skips queries and proves nothing.
    team_deals = dict(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, owner__manager_id__in=team_sizes)
        .order_by()
        .values_list("owner__manager_id")
        .annotate(n=Count("id"))
    )
    manager_id, _ = _typical_and_smallest(team_sizes)
    _, small_manager_id = _typical_and_smallest(team_deals)
    if small_manager_id == manager_id:
        small_manager_id = min(team_deals, key=lambda pk: (pk == manager_id, team_deals[pk], pk))
    open_deals = dict(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, owner__role=Role.REP)
        .values_list("owner_id")
        .annotate(n=Count("id"))
    )
    rep_id, small_rep_id = _typical_and_smallest(open_deals)
    people = User.objects.in_bulk([manager_id, small_manager_id, rep_id, small_rep_id])
    rep, small_rep = people[rep_id], people[small_rep_id]
    return Personas(
        executive=executive,
        manager=people[manager_id],
        small_manager=people[small_manager_id],
        rep=rep,
        small_rep=small_rep,
        opportunity=_busiest_open_deal(rep),
        small_opportunity=_busiest_open_deal(small_rep),
        account=_account_with_most_deals(rep),
        small_account=_account_with_most_deals(small_rep, fewest=True),
        activity=Activity.objects.filter(owner=rep).order_by("-occurred_at", "-id").first()
        or Activity.objects.order_by("id").first(),
    )


def _busiest_open_deal(owner: User) -> Opportunity:
    """The owner's open deal with the most logged activities (a long history page)."""
    deal = (
        Opportunity.objects.filter(owner=owner, status=Opportunity.Status.OPEN)
        .annotate(n=Count("activities"))
        .order_by("-n", "pk")
        .first()
    )
    if deal is None:
        raise CommandError(f"{owner} has no open deal.")
    return deal


def _account_with_most_deals(owner: User, *, fewest: bool = False) -> Account:
    """An account with open deals owned by ``owner`` (the most, or the fewest)."""
    order = "n" if fewest else "-n"
    account = (
        Account.objects.filter(opportunities__owner=owner)
        .annotate(n=Count("opportunities", filter=Q(opportunities__status="open")))
        .filter(n__gt=0)
        .order_by(order, "pk")
        .first()
    )
    if account is None:
        raise CommandError(f"{owner} has no account with an open deal.")
    return account


def review_for(*, viewer: User, account: Account, today: dt.date | None = None):
    """An account review of ``account`` that ``viewer`` sees: an existing one, else a new one
    through the coaching service (the caller runs inside a transaction it rolls back)."""
    from coaching import selectors as coaching_selectors
    from coaching import services as coaching_services

    review = coaching_selectors.review_list(viewer=viewer, account=account).first()
    if review is None:
        review = coaching_services.review_create(
            actor=viewer, account=account, held_on=today or timezone.localdate()
        )
    return review
