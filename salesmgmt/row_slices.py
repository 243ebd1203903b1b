"""Reading one page of a list's rows cheaply: the API's pages and the site's list pages.

A page is read in two steps inside one query: the page's ids sorted on the list's own table
only, then those rows with their related rows joined (``narrow_slice``).

A list whose visible rows are a few index ranges (a manager's activities: each visible
person's own, each one's deals', each team deal's; the API view's ``keyset_ranges``) reads the
page's ids from those ranges, each stopped at the page's end, instead of sorting every
visible row: the cost follows the number of ranges, not the team's whole history. Selectors
mark a list's visibility condition ``ImpliedByRanges`` so that a range's read drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, F, OrderBy, Q, QuerySet, Subquery
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable


def _sort_key(field: str) -> OrderBy:
    """``field`` as ``COALESCE(col, col)``: the same order, but no index can supply it."""
    name = field.lstrip("-")
    key = Coalesce(F(name), F(name))
    return key.desc() if field.startswith("-") else key.asc()


@dataclass(frozen=True)
class IndexRange:
    """The rows whose ``column`` is one of ``keys`` (ids, or a one-column queryset of them):
    for each key one range of an index on ``(column, *VisibleRanges.order)``."""

    column: str
    keys: list[int] | QuerySet


@dataclass(frozen=True)
class VisibleRanges:
    """A viewer's visible rows as index ranges: their union is exactly the visible set (a row
    may be in several). ``order``: the fields every range's index continues with, ascending
    (read backwards for a descending list)."""

    ranges: tuple[IndexRange, ...]
    order: tuple[str, ...]

    def serves(self, ordering: Sequence[object]) -> bool:
        """Whether a list in ``ordering`` can be read from the ranges' indexes."""
        if not all(isinstance(field, str) for field in ordering):
            return False
        names = [str(field).lstrip("-") for field in ordering]
        names = ["id" if name == "pk" else name for name in names]
        directions = {str(field).startswith("-") for field in ordering}
        return tuple(names) == self.order and len(directions) == 1


def narrow_slice(
    queryset: QuerySet,
    bounds: slice,
    *,
    sort_visible: bool = False,
    ranges: VisibleRanges | None = None,
) -> list:
    """``list(queryset[bounds])``, sorting only the ids: the related rows are joined to the page.

    The sort then carries the list table's ids and sort keys only, not every visible row
    widened by its joins (a manager's 13,000 activities, each with owner, account and deal).
    Still one query: ``WHERE id IN (SELECT id ... ORDER BY ... LIMIT n)``.

    ``sort_visible``: the rows are a viewer's visible set (a few thousand, found through the
    owner and deal indexes), so sort them rather than walk an index in the list's order:
    PostgreSQL cannot size the visibility arrays and would walk the whole (occurred_at, id)
    index, checking each row against them (60-100 ms for a rep).

    ``ranges``: the visible set as index ranges (``ranged_ids``), used instead of the sort
    when their indexes serve the list's order.
    """
    query = queryset.query
    plain = queryset._iterable_class is ModelIterable and query.order_by
    if not plain or query.distinct or query.combinator or query.extra or _grouped(query):
        return list(queryset[bounds])  # not a plain ordered list of rows: slice it as it is
    ids = queryset.values("pk")
    page_ids: Subquery | RawSQL
    if ranges is not None and _ranges_apply(queryset, bounds, ranges):
        page_ids = ranged_ids(queryset, bounds, ranges)
    else:
        if sort_visible and all(isinstance(field, str) for field in query.order_by):
            # The filter drops nothing (all are str); it narrows the type for _sort_key.
            ids = ids.order_by(*(_sort_key(f) for f in query.order_by if isinstance(f, str)))
        page_ids = Subquery(ids[bounds])
    page = queryset.model._default_manager.filter(pk__in=page_ids)
    page.query.select_related = query.select_related
    page.query.deferred_loading = query.deferred_loading
    if query.annotations:
        # A value computed per row (a deal's latest two-way contact: a correlated subquery
        # on the list's table, whose alias the page's query shares) is computed for the
        # page's rows only, as the related rows are joined to them.
        page.query.annotations = dict(query.annotations)
        page.query.set_annotation_mask(query.annotation_select)
    page = page.order_by(*query.order_by)
    # A private QuerySet attribute the stubs leave out: the lookups prefetch_related() was given.
    return list(page.prefetch_related(*queryset._prefetch_related_lookups))  # type: ignore[attr-defined]


def _grouped(query) -> bool:
    """Whether ``query`` groups its rows (an aggregate annotation, or an explicit GROUP BY)."""
    return query.group_by is not None or any(
        getattr(annotation, "contains_aggregate", True) for annotation in query.annotations.values()
    )


def _ranges_apply(queryset: QuerySet, bounds: slice, ranges: VisibleRanges) -> bool:
    # LATERAL and unnest() are PostgreSQL's; elsewhere (SQLite in development) the sort.
    return (
        connections[queryset.db].vendor == "postgresql"
        and bounds.stop is not None
        and (bounds.step or 1) == 1
        and ranges.serves(queryset.query.order_by)
    )


class ImpliedByRanges(ExpressionWrapper):
    """A long list's visibility condition (``filter(ImpliedByRanges(q))``), which the rows of
    each of its visible ranges meet by construction (``VisibleRanges``: their union is
    exactly the visible set): compiled as it is, except in ``ranged_ids``' read of one range,
    where it is ``TRUE``. There PostgreSQL took the condition, ``owner_id = ANY(people) OR
    deal_owner_id = ANY(people) OR ...``, for independent of the range's own ``owner_id =
    key`` and expected 9 of a person's 2,100 activities to pass it: it read and sorted each
    person's whole range (27 ms for a manager's page at the 1 M tier) instead of walking its
    index to the page's end."""

    def __init__(self, condition: Q) -> None:
        super().__init__(condition, output_field=BooleanField())

    def as_sql(self, compiler, connection):
        if getattr(compiler.query, RANGE_READ, False):
            return "TRUE", ()
        return super().as_sql(compiler, connection)


# Set on the query of one range's read (ranged_ids): see ImpliedByRanges.
RANGE_READ = "salesmgmt_range_read"


class _RangeMark(Expression):
    """A condition compiled as ``MARK``: ``ranged_ids`` puts each range's condition there."""

    MARK = "__salesmgmt_range_condition__"
    output_field = BooleanField()

    def as_sql(self, compiler, connection):
        return self.MARK, ()


def ranged_ids(queryset: QuerySet, bounds: slice, ranges: VisibleRanges) -> RawSQL:
    """The ids of ``queryset[bounds]`` read range by range: one query's SQL, for ``id IN``.

    For each range and each of its keys, ``queryset`` (its visibility, filters and keyset
    position) restricted to ``column = key`` in the list's order, stopped at ``bounds.stop``
    rows: one backward (or forward) read of the index on ``(column, *order)``. Whichever
    range a row of the page comes from, every row before it in the list is in its range
    too, and before it there, so it is within that range's first ``bounds.stop`` rows:
    ``UNION`` (rows in several ranges once) then sorting those few rows and taking
    ``bounds`` gives the page exactly. The keys are a literal array or an ``ARRAY(...)``
    subquery, unnested and joined ``LATERAL``: the SQL is the same size for any team.
    """
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    ordering = [str(field) for field in queryset.query.order_by]
    descending = ordering[0].startswith("-")
    meta = queryset.model._meta
    columns = [meta.get_field(name).column for name in ranges.order]
    start, stop = bounds.start or 0, int(bounds.stop)
    # The branches differ only in their range's condition: the list's query (visibility,
    # filters, keyset position) is compiled once, with a mark where each puts its own.
    branch = queryset.filter(_RangeMark()).values_list(*ranges.order)[:stop].query
    setattr(branch, RANGE_READ, True)
    template, branch_params = branch.get_compiler(queryset.db).as_sql()
    if template.count(_RangeMark.MARK) != 1:
        raise ValueError("The range mark must appear once in the list's compiled query.")
    table = quote(meta.db_table)
    parts: list[str] = []
    params: list[object] = []
    for number, index_range in enumerate(ranges.ranges):
        alias = f"range_{number}"
        # Only generated names, Django's compiled SQL and integers go into the text; every
        # value is a parameter.
        column = quote(meta.get_field(index_range.column).column)
        branch_sql = template.replace(_RangeMark.MARK, f"{table}.{column} = ({alias}.key)")
        if isinstance(index_range.keys, QuerySet):
            keys_sql, keys_params = index_range.keys.query.get_compiler(queryset.db).as_sql()
            source = f"unnest(ARRAY({keys_sql}))"
            params += keys_params
        else:
            source = "unnest(%s::bigint[])"
            params.append(list(index_range.keys))
        lateral = f"CROSS JOIN LATERAL ({branch_sql}) AS {alias}_rows"
        parts.append(f"(SELECT {alias}_rows.* FROM {source} AS {alias}(key) {lateral})")  # noqa: S608  # nosec B608
        params += branch_params
    direction = " DESC" if descending else ""
    order_sql = ", ".join(f"merged.{quote(column)}{direction}" for column in columns)
    id_column = quote(meta.pk.column)
    merged = f"({' UNION '.join(parts)}) AS merged"
    window = f"ORDER BY {order_sql} LIMIT {stop - start:d} OFFSET {start:d}"
    sql = f"SELECT merged.{id_column} FROM {merged} {window}"  # noqa: S608  # nosec B608
    return RawSQL(sql, tuple(params))  # noqa: S611  # nosec B611


UNIQUE_KEYS = {"pk", "-pk", "id", "-id"}


def with_unique_order(queryset: QuerySet) -> QuerySet:
    """``queryset`` ordered to the row: its order, then the id where the order has ties.

    Numbered pages are offsets into the order, each read by its own query: rows tied on the
    whole order come back in any order, so one can land on two pages and another on none
    (the KPI list sorted by period start: a year, its first quarter and its first month tie).
    """
    query = queryset.query
    order = query.order_by
    if not order or any(field in UNIQUE_KEYS for field in order if isinstance(field, str)):
        return queryset
    if query.distinct or query.combinator or query.values_select or query.group_by:
        return queryset  # no id to add: DISTINCT, UNION or grouped rows (one per key already)
    return queryset.order_by(*order, "pk")
