"""The global search: accounts, contacts, deals and activities a viewer may see, ranked.

Matching: every word of the query must appear (case-insensitive, anywhere; a two-letter word
at the start) in one of the kind's fields: an account's name; a contact's first name, last
name or e-mail; a deal's name or its account's name; an activity's notes (words of 3 letters
or more only: notes are prose, and no index finds two letters at the start of a word).
Ranking within a kind: the title equal to the query first, then titles starting with it,
then by trigram similarity to the query on PostgreSQL (``pg_trgm``; the shorter title on
SQLite, which has no similarity), then the newest.

Speed at the largest bench tier: on PostgreSQL the matched columns have trigram (GIN) and
prefix (B-tree) indexes (migration ``accounts.0018_search_trigram_indexes``; the plan is
checked by tests/accounts/test_search_plan.py), so a word anywhere and a word at the start
are index scans. Visibility is ``listing``'s form of the one rule, split into its branches
(``_match_sources``): a rep or a manager searches each way a row is visible to them (the
owner's rows, the deal owner's, the team deals'), each an index range the planner can
intersect with the text index or filter by the words. A common word can still match a
hundred thousand activities: only the first ``CANDIDATES`` matches of each source (plus as
many whose title starts with the query, so exact and prefix hits are not lost) are ranked;
a team's activities by owner and by deal owner are read person by person, each person giving
up to an equal share of them (``listing.keyed_ids``). Type more to narrow a search that hits
the cap.

Queries: one per kind searched, plus one for a manager's visible people (read once for all
kinds), whatever the number of matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    FloatField,
    IntegerField,
    Model,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, Length
from django.urls import reverse

from salesmgmt.models import User
from salesmgmt.visibility import visible_user_ids

from ..models import Account, Activity, Contact, Opportunity
from . import listing

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
MIN_NOTES_QUERY_LENGTH = 3
MAX_WORDS = 5
# Matches of one kind that are ranked (besides the prefix matches): see the module docstring.
CANDIDATES = 500
PER_KIND = 5

KIND_LABELS = {
    "account": "Accounts",
    "contact": "Contacts",
    "opportunity": "Opportunities",
    "activity": "Activities",
}
KINDS = tuple(KIND_LABELS)


@dataclass(frozen=True)
class SearchHit:
    """One result: what it is, its id, a title and a line of context."""

    kind: str
    pk: int
    title: str
    detail: str
    # 0: the title is the query, 1: it starts with it, 2: the query is elsewhere in it.
    match: int
    # The page that shows it: a contact's account, an activity's deal (or account).
    url: str


@dataclass(frozen=True)
class SearchGroup:
    kind: str
    label: str
    hits: list[SearchHit]
    has_more: bool


@dataclass
class SearchResults:
    """The hits of one page, grouped by kind (each kind's page is ``per_kind`` hits)."""

    query: str
    page: int
    per_kind: int
    groups: list[SearchGroup] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return any(group.has_more for group in self.groups)

    @property
    def hits(self) -> list[SearchHit]:
        return [hit for group in self.groups for hit in group.hits]


@dataclass(frozen=True)
class _KindSpec:
    """How one kind is matched and ranked."""

    kind: str
    fields: tuple[str, ...]  # each word must be in one of them
    # An indexed column whose prefix matches are always ranked (None: notes, where a prefix
    # means little and the trigram index could not tell one from any other match).
    prefix_field: str | None
    min_length: int = MIN_QUERY_LENGTH  # shorter words are left out of the match


SPECS = {
    "account": _KindSpec("account", ("name",), "name"),
    "contact": _KindSpec("contact", ("first_name", "last_name", "email"), "first_name"),
    "opportunity": _KindSpec("opportunity", ("name", "account__name"), "name"),
    "activity": _KindSpec("activity", ("notes",), None, MIN_NOTES_QUERY_LENGTH),
}


def normalize_query(query: str) -> str:
    """The query with its runs of white space made one space, trimmed."""
    return re.sub(r"\s+", " ", query).strip()


def global_search(
    *,
    viewer: User,
    query: str,
    kinds: tuple[str, ...] = KINDS,
    page: int = 1,
    per_kind: int = PER_KIND,
) -> SearchResults:
    """Page ``page`` of each kind's ranked matches of ``query`` that ``viewer`` may see.

    The caller validates the query (at least ``MIN_QUERY_LENGTH`` characters once trimmed).
    A kind none of whose words is long enough (notes: 3 letters) is left out. Pages go as far
    as the ranked candidates (``CANDIDATES`` a kind and the prefix matches).
    """
    query = normalize_query(query)[:MAX_QUERY_LENGTH]
    results = SearchResults(query=query, page=page, per_kind=per_kind)
    # Read once for every kind (a manager's people: one query; nobody else's: none).
    people = None if viewer.sees_everyone else visible_user_ids(viewer)
    offset = (page - 1) * per_kind
    for kind in kinds:
        spec = SPECS[kind]
        if not _words(spec, query):
            continue
        rows = list(_ranked(spec, viewer, people, query)[offset : offset + per_kind + 1])
        hits = [_hit(kind, row) for row in rows[:per_kind]]
        results.groups.append(
            SearchGroup(kind, KIND_LABELS[kind], hits, has_more=len(rows) > per_kind)
        )
    return results


MODELS: dict[str, type[Model]] = {
    "account": Account,
    "contact": Contact,
    "opportunity": Opportunity,
    "activity": Activity,
}
# What each kind's hit shows besides its own row (joined: no query per hit).
RELATED = {
    "account": ("owner",),
    "contact": ("account",),
    "opportunity": ("account", "stage"),
    "activity": ("account", "opportunity"),
}


@dataclass(frozen=True)
class _Source:
    """One way the kind's rows can be visible: ``rows``, or with ``column`` the rows whose
    column is one of ``people`` (a person's own index range each: ``listing.keyed_ids``)."""

    rows: QuerySet
    column: str | None = None
    people: list[int] = field(default_factory=list)

    def candidates(self, condition: Q) -> QuerySet | RawSQL:
        """Up to ``CANDIDATES`` ids of the source's rows that meet ``condition``."""
        matching = self.rows.filter(condition).order_by()
        if self.column is None:
            return matching.values("pk")[:CANDIDATES]
        return listing.keyed_ids(matching, self.column, self.people, CANDIDATES)


def _match_sources(kind: str, viewer: User, people: list[int] | None) -> list[_Source]:
    """Where the candidates are looked for: everything, for a viewer who sees everyone; for
    anyone else each way a row is visible on its own (listing's branches).

    A word matches thousands of rows at the largest tier ("maplebri": 500 accounts, 1,750
    contacts, 2,000 deals; "call": a hundred thousand notes): found through the text index,
    each had its visibility checked, for a rep as for a manager (867 ms for a manager's name
    search, 449 ms for a manager's "call"). What a rep or a team sees is a few index ranges
    (owner, deal owner, team deals), which the planner can read with the words as a filter,
    stopping at ``CANDIDATES``, or intersect with the text index; each branch is capped alone.
    Activities by the people's own columns are read person by person (``listing.keyed_ids``):
    for all of them at once PostgreSQL intersected the team's rows with a common word's whole
    bitmap (617 ms for a manager's "steps"; 35 ms so).
    """
    model = MODELS[kind]
    if viewer.sees_everyone:
        return [_Source(model._default_manager.all())]
    people = people if people is not None else visible_user_ids(viewer)
    every = model._default_manager.all()
    if kind == "activity":
        return [
            *(_Source(every, column, people) for column in listing.ACTIVITY_PEOPLE_COLUMNS),
            *(_Source(every.filter(q)) for q in listing.activity_other_branches(people)),
        ]
    if kind == "opportunity":
        return [_Source(every.filter(q)) for q in listing.opportunity_branches(people)]
    accounts = [Account.objects.filter(q) for q in listing.account_branches(people)]
    if kind == "account":
        return [_Source(branch) for branch in accounts]
    # A contact is visible with its account: the contacts of each branch's accounts.
    return [
        _Source(Contact.objects.filter(listing.AnyOf("account_id", branch.order_by().values("pk"))))
        for branch in accounts
    ]


def _words(spec: _KindSpec, query: str) -> list[str]:
    return [word for word in query.split(" ")[:MAX_WORDS] if len(word) >= spec.min_length]


def _word_matches(spec: _KindSpec, word: str) -> Q:
    """``word`` in one of the kind's fields; a deal's account through the accounts' index.

    A word of two letters matches the start of a field only: anywhere, it would match half
    of every table, and no trigram index can find it (B-tree pattern indexes find prefixes).
    """
    lookup = "icontains" if len(word) >= MIN_NOTES_QUERY_LENGTH else "istartswith"
    conditions = []
    for name in spec.fields:
        if name == "account__name":
            accounts = Account.objects.filter(**{f"name__{lookup}": word}).order_by()
            conditions.append(Q(listing.AnyOf("account_id", accounts.values("pk"))))
        else:
            conditions.append(Q(**{f"{name}__{lookup}": word}))
    return reduce(or_, conditions)


def _title(kind: str):
    """The expression the exact and prefix ranks compare with the query."""
    if kind == "contact":
        return Concat(F("first_name"), Value(" "), F("last_name"), output_field=CharField())
    return F("notes") if kind == "activity" else F("name")


def _similarity(kind: str, query: str):
    """Trigram similarity of the title to the query (PostgreSQL); 0 elsewhere."""
    if connection.vendor != "postgresql":
        return Value(0.0, output_field=FloatField())
    if kind == "activity":
        # Long notes: how well the query matches some part of them, not the whole text.
        return TrigramWordSimilarity(query, "notes")
    return TrigramSimilarity("search_title", query)


def _ranked(spec: _KindSpec, viewer: User, people: list[int] | None, query: str) -> QuerySet:
    """The kind's visible matches, best first (see the module docstring for the order)."""
    matches = match(spec.kind, query)
    # The candidates: any CANDIDATES matches of each source, and as many whose title starts
    # with the query (so exact and prefix hits are not lost). ``id = ANY(ARRAY(...))``:
    # primary-key lookups; ``id IN (...) OR id IN (...)`` scanned the whole table.
    found = []
    for source in _match_sources(spec.kind, viewer, people):
        found.append(Q(listing.AnyOf("id", source.candidates(matches))))
        if spec.prefix_field:
            starting = matches & Q(**{f"{spec.prefix_field}__istartswith": query})
            found.append(Q(listing.AnyOf("id", source.candidates(starting))))
    return rank(MODELS[spec.kind]._default_manager.filter(reduce(or_, found)), spec.kind, query)


def match(kind: str, query: str) -> Q:
    """Every word of ``query`` (long enough for the kind) in one of the kind's fields."""
    spec = SPECS[kind]
    return reduce(and_, (_word_matches(spec, word) for word in _words(spec, query)))


def rank(candidates: QuerySet, kind: str, query: str) -> QuerySet:
    """``candidates`` best first (see the module docstring for the order), with what a hit
    shows joined."""
    newest = "-occurred_at" if kind == "activity" else "-updated_at"
    return (
        candidates.select_related(*RELATED[kind])
        .annotate(
            search_title=_title(kind),
            search_match=Case(
                When(search_title__iexact=query, then=Value(0)),
                When(search_title__istartswith=query, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            search_similarity=_similarity(kind, query),
        )
        .order_by("search_match", "-search_similarity", Length("search_title"), newest, "-pk")
    )


def _hit(kind: str, row) -> SearchHit:
    if kind == "account":
        detail = " · ".join(part for part in (row.industry, row.region, str(row.owner)) if part)
        url = reverse("accounts:account_detail", args=[row.pk])
    elif kind == "contact":
        detail = " · ".join(part for part in (row.title, row.email, row.account.name) if part)
        url = reverse("accounts:account_detail", args=[row.account_id]) + "#contacts"
    elif kind == "opportunity":
        stage = row.stage.name if row.stage_id else row.get_status_display()
        detail = f"{row.account.name} · {stage}"
        url = reverse("accounts:opportunity_detail", args=[row.pk])
    else:
        on = row.opportunity.name if row.opportunity_id else row.account.name
        detail = f"{row.get_kind_display()} · {row.occurred_at:%Y-%m-%d} · {on}"
        url = (
            reverse("accounts:opportunity_detail", args=[row.opportunity_id])
            if row.opportunity_id
            else reverse("accounts:account_detail", args=[row.account_id])
        )
    title = row.notes[:120] if kind == "activity" else str(row)
    return SearchHit(kind, row.pk, title, detail, row.search_match, url)
