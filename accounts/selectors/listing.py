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

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, QuerySet, Subquery
from django.db.models.expressions import Expression, RawSQL

from salesmgmt.models import User
from salesmgmt.visibility import visible_user_ids

from ..models import Opportunity, OpportunityTeamMember


class AnyOf(Func):
    """``column = ANY(ARRAY(subquery))`` on PostgreSQL, ``column IN (subquery)`` elsewhere
    (the subquery: a queryset, or the SQL of ``keyed_ids``)."""

    output_field = BooleanField()

    def __init__(self, column: str, queryset: QuerySet | RawSQL) -> None:
        super().__init__(
            F(column), Subquery(queryset) if isinstance(queryset, QuerySet) else queryset
        )

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


# The columns of a row holding a visible person (each with an index): a row is visible when
# one of them is one of the people, or when it meets one of the kind's other branches below.
OPPORTUNITY_PEOPLE_COLUMNS = ("owner_id",)
ACCOUNT_PEOPLE_COLUMNS = ("owner_id",)
# For activities also "on a deal a visible person owns", through the owner copied onto each
# activity (Activity.deal_owner): one index range a person instead of one a deal.
ACTIVITY_PEOPLE_COLUMNS = ("owner_id", "deal_owner_id")


def _people_branches(columns: tuple[str, ...], people: list[int]) -> list[Q]:
    return [Q(AnyOfIds(column, people)) for column in columns]


def opportunity_other_branches(people: list[int]) -> list[Q]:
    """A deal is visible too when a visible person is on its team."""
    return [_in("id", team_deals(people).values("opportunity_id"))]


def account_other_branches(people: list[int]) -> list[Q]:
    """An account is visible too with a deal a visible person owns or is on the team of."""
    return [
        _in("id", _owned_deals(people).values("account_id")),
        _in("id", _deals_on_teams(people).values("account_id")),
    ]


def activity_other_branches(people: list[int]) -> list[Q]:
    """An activity is visible too on a deal a visible person is on the team of."""
    return [_in("opportunity_id", team_deals(people).values("opportunity_id"))]


def opportunity_branches(people: list[int]) -> list[Q]:
    """``visible_opportunities``' branches, each an index condition of its own: a deal is
    visible when it meets one of them."""
    return [
        *_people_branches(OPPORTUNITY_PEOPLE_COLUMNS, people),
        *opportunity_other_branches(people),
    ]


def account_branches(people: list[int]) -> list[Q]:
    """``visible_accounts``' branches (see ``opportunity_branches``)."""
    return [
        *_people_branches(ACCOUNT_PEOPLE_COLUMNS, people),
        *account_other_branches(people),
    ]


def activity_branches(people: list[int]) -> list[Q]:
    """``visible_activities``' branches (see ``opportunity_branches``)."""
    return [
        *_people_branches(ACTIVITY_PEOPLE_COLUMNS, people),
        *activity_other_branches(people),
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


class _KeyMark(Expression):
    """A condition compiled as ``MARK``: ``keyed_ids`` puts the key's condition there."""

    MARK = "__listing_key_condition__"
    output_field = BooleanField()

    def as_sql(self, compiler, connection):
        return self.MARK, ()


def keyed_ids(queryset: QuerySet, column: str, keys: list[int], limit: int) -> QuerySet | RawSQL:
    """Up to ``limit`` ids of ``queryset``'s rows whose ``column`` is one of ``keys``, at most
    an equal share of them from each key, read one key at a time (for ``AnyOf``).

    ``column = ANY(keys)`` with another selective condition (a search's words) lets PostgreSQL
    intersect the column's index with the other one's, costed for all keys at once: a manager's
    notes search for a common word built the trigram index's bitmap of 928,481 notes (240 ms)
    to keep the team's 500, once per branch. Per key (``unnest`` joined ``LATERAL``) each is
    one person's index range, and with a share of ``limit`` to find in it the planner reads it
    with the words as a filter, stopping at the share, when the words are common, or
    intersects it with a rare word's small bitmap. (With the whole ``limit`` a key, more than
    a person's matches of a common word, it took the common word's bitmap again, per key.)
    On PostgreSQL only (SQLite in development: ``column IN (...)``, up to ``limit``).
    """
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(AnyOfIds(column, keys)).values("pk")[:limit]
    # The per-key query is compiled once, with a mark where the key's condition goes.
    share = -(-limit // max(1, len(keys)))
    branch = queryset.filter(_KeyMark()).values("pk")[:share]
    template, params = branch.query.get_compiler(queryset.db).as_sql()
    if template.count(_KeyMark.MARK) != 1:
        raise ValueError("The key mark must appear once in the compiled query.")
    meta = queryset.model._meta
    quote = connections[queryset.db].ops.quote_name
    condition = f"{quote(meta.db_table)}.{quote(meta.get_field(column).column)} = keys.key"
    per_key = template.replace(_KeyMark.MARK, condition)
    # Only generated names, Django's compiled SQL and an integer go into the text; every
    # value is a parameter.
    sql = (
        "SELECT candidates.* FROM unnest(%s::bigint[]) AS keys(key) "  # noqa: S608  # nosec B608
        f"CROSS JOIN LATERAL ({per_key}) AS candidates LIMIT {int(limit):d}"
    )
    return RawSQL(sql, (list(keys), *params))  # noqa: S611  # nosec B611
