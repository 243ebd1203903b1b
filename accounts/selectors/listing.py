"""Visibility for long lists, written so PostgreSQL reads only the visible rows' index entries.

The rule is ``accounts.querysets``' ``visible_to`` exactly (tests compare the two): a row is
visible when a visible person owns it, or (activities, accounts) it hangs off a visible deal,
a deal being visible when a visible person owns it or is on its team. ``visible_to`` says so
with ``OR EXISTS (...)``, which PostgreSQL can only check row by row: a manager's list of
activities scanned all 2,000,000 of them (seconds). Here each branch is
``column = ANY(...)``, an index scan (a BitmapOr) in a single query: the visible people are
a literal array (``visible_user_ids``: one small query for a manager, none for a rep), the
deals they own or work on ``ARRAY(SELECT ...)`` subqueries that run once. Nesting the people
as a subquery too made every list compile and plan three copies of it (several ms a request).
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery

from salesmgmt.models import User
from salesmgmt.visibility import visible_user_ids

from ..models import Opportunity, OpportunityTeamMember


class AnyOf(Func):
    """``column = ANY(ARRAY(subquery))`` on PostgreSQL, ``column IN (subquery)`` elsewhere."""

    output_field = BooleanField()

    def __init__(self, column: str, queryset: QuerySet) -> None:
        super().__init__(F(column), Subquery(queryset))

    def as_sql(
        self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context
    ):
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return f"{column_sql} IN {subquery_sql}", (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection, **extra):
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        # Subquery compiles with its own parentheses: ARRAY(SELECT ...).
        return f"{column_sql} = ANY(ARRAY{subquery_sql})", (*column_params, *subquery_params)


class AnyOfIds(Func):
    """``column = ANY(%s)`` with the ids as one array parameter on PostgreSQL, ``IN`` elsewhere."""

    output_field = BooleanField()

    def __init__(self, column: str, ids: list[int]) -> None:
        super().__init__(F(column))
        self.ids = ids

    def as_sql(
        self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context
    ):
        (column,) = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        if not self.ids:
            return "1 = 0", ()
        marks = ", ".join(["%s"] * len(self.ids))
        return f"{column_sql} IN ({marks})", (*column_params, *self.ids)

    def as_postgresql(self, compiler, connection, **extra):
        (column,) = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        return f"{column_sql} = ANY(%s)", (*column_params, list(self.ids))


def _owned_deals(people: list[int]) -> QuerySet:
    return Opportunity.objects.filter(AnyOfIds("owner_id", people)).order_by()


def team_deals(people: list[int]) -> QuerySet:
    """The deal-team rows of ``people`` (their ``opportunity_id``: the deals they are on)."""
    return OpportunityTeamMember.objects.filter(AnyOfIds("user_id", people)).order_by()


def _deals_on_teams(people: list[int]) -> QuerySet:
    # Nested rather than joined: a join to the deals would scan all of them.
    team = team_deals(people).values("opportunity_id")
    return Opportunity.objects.filter(AnyOf("id", team)).order_by()


def _in(column: str, queryset: QuerySet) -> Q:
    """``column = ANY(ARRAY(queryset))``: an index condition of its own."""
    return Q(AnyOf(column, queryset))


def opportunity_branches(people: list[int]) -> list[Q]:
    """``visible_opportunities``' branches, each an index condition of its own: a deal is
    visible when it meets one of them."""
    return [
        Q(AnyOfIds("owner_id", people)),
        _in("id", team_deals(people).values("opportunity_id")),
    ]


def account_branches(people: list[int]) -> list[Q]:
    """``visible_accounts``' branches (see ``opportunity_branches``)."""
    return [
        Q(AnyOfIds("owner_id", people)),
        _in("id", _owned_deals(people).values("account_id")),
        _in("id", _deals_on_teams(people).values("account_id")),
    ]


def activity_branches(people: list[int]) -> list[Q]:
    """``visible_activities``' branches (see ``opportunity_branches``)."""
    return [
        Q(AnyOfIds("owner_id", people)),
        # "on a deal a visible person owns", through the owner copied onto each activity
        # (Activity.deal_owner): one index range a person instead of one a deal.
        Q(AnyOfIds("deal_owner_id", people)),
        _in("opportunity_id", team_deals(people).values("opportunity_id")),
    ]


def visible_opportunities(viewer: User, people: list[int] | None = None) -> Q:
    """Deals a visible person owns or is on the team of.

    ``people``: ``visible_user_ids(viewer)`` when the caller already read them (one read for
    several lists, e.g. the global search). The same for the two below.
    """
    if viewer.sees_everyone:
        return Q()
    people = visible_user_ids(viewer) if people is None else people
    return reduce(or_, opportunity_branches(people))


def visible_accounts(viewer: User, people: list[int] | None = None) -> Q:
    """Accounts a visible person owns, or with a deal the viewer sees."""
    if viewer.sees_everyone:
        return Q()
    people = visible_user_ids(viewer) if people is None else people
    return reduce(or_, account_branches(people))


def visible_activities(viewer: User, people: list[int] | None = None) -> Q:
    """Activities a visible person logged, or logged on a deal the viewer sees."""
    if viewer.sees_everyone:
        return Q()
    people = visible_user_ids(viewer) if people is None else people
    return reduce(or_, activity_branches(people))


def activity_ranges(people: list[int]) -> list[tuple[str, list[int] | QuerySet]]:
    """``visible_activities``' branches as (column, keys): the activities of ``people`` are
    those whose column is one of its keys, for some branch. Each key is one range of the
    column's ``(column, occurred_at, id)`` index: a manager's list reads the newest rows of
    each instead of sorting the team's whole history (salesmgmt.api.pagination)."""
    # A team deal a visible person owns is in the deal-owner ranges already (its activities
    # carry that owner): only the others need a range each (none, for most teams).
    others = team_deals(people).exclude(opportunity__owner_id__in=people)
    return [
        ("owner_id", people),
        ("deal_owner_id", people),
        ("opportunity_id", others.values("opportunity_id").distinct()),
    ]
