"""Pagination on every list: page numbers for people, a cursor on ``updated_at`` for sync.

``?page=2&page_size=100`` gives numbered pages with a total ``count``. With ``updated_since``
(or a ``cursor`` from a previous page) the list switches to cursor pagination ordered by
``(updated_at, id)``: stable while rows change, and a row edited during a sync moves to the
end, so a client that follows ``next`` to the end sees every change exactly once more.

The long lists (accounts, deals, activities: views with ``keyset_pagination = True``) page
by default with a keyset in the list's own order (``?after=`` from ``next``, no ``count``):
counting and sorting every visible row made a page cost what the whole list costs (an
executive's activities: all 2,000,000). ``?page=`` still gives numbered pages with a count.

Whatever the mode, a page is read in two steps inside one query: the page's ids sorted on
the list's own table only, then those rows with their related rows joined (``narrow_slice``).

A list whose visible rows are a few index ranges (a manager's activities: each visible
person's own, each one's deals', each team deal's; the view's ``keyset_ranges``) reads the
page's ids from those ranges, each stopped at the page's end, instead of sorting every
visible row: the cost follows the number of ranges, not the team's whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import BooleanField, ExpressionWrapper, F, OrderBy, Q, QuerySet, Subquery
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 500
CURSOR_TRIGGERS = ("cursor", "updated_since")
PAGE_TRIGGERS = ("page",)


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


class _NarrowSlices:
    """A queryset whose slices go through ``narrow_slice`` (what cursor pagination calls)."""

    def __init__(
        self, queryset: QuerySet, *, sort_visible: bool, ranges: VisibleRanges | None = None
    ) -> None:
        self.queryset = queryset
        self.sort_visible = sort_visible
        self.ranges = ranges

    def _with(self, queryset: QuerySet) -> _NarrowSlices:
        return _NarrowSlices(queryset, sort_visible=self.sort_visible, ranges=self.ranges)

    def order_by(self, *fields) -> _NarrowSlices:
        return self._with(self.queryset.order_by(*fields))

    def filter(self, *args, **kwargs) -> _NarrowSlices:
        return self._with(self.queryset.filter(*args, **kwargs))

    def __getitem__(self, bounds: slice) -> list:
        return narrow_slice(
            self.queryset, bounds, sort_visible=self.sort_visible, ranges=self.ranges
        )


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


class NarrowPaginator(Paginator):
    """Django's paginator whose pages are read with ``narrow_slice``."""

    object_list: QuerySet  # always a queryset here (the base class accepts any sequence)
    sort_visible = False
    ranges: VisibleRanges | None = None

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = narrow_slice(
            with_unique_order(self.object_list),
            slice(bottom, top),
            sort_visible=self.sort_visible,
            ranges=self.ranges,
        )
        # Django's Paginator._get_page (builds the Page), private, so not in the stubs.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


def sorts_visible_rows(request, view) -> bool:
    """Whether a long list (``keyset_pagination``) is a visible set rather than every row."""
    user = getattr(request, "user", None)
    return getattr(view, "keyset_pagination", False) and not getattr(user, "sees_everyone", True)


def visible_ranges(request, view) -> VisibleRanges | None:
    """The view's visible rows as index ranges (``keyset_ranges``), for a visible set only:
    a list of every row (an executive's) is one walk of the list's own index."""
    if not sorts_visible_rows(request, view) or not hasattr(view, "keyset_ranges"):
        return None
    return view.keyset_ranges()


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    sort_visible = False
    ranges: VisibleRanges | None = None

    def django_paginator_class(self, queryset, per_page) -> NarrowPaginator:  # type: ignore[override]
        # DRF calls this to build its paginator: ours reads pages with narrow_slice.
        paginator = NarrowPaginator(queryset, per_page)
        paginator.sort_visible = self.sort_visible
        paginator.ranges = self.ranges
        return paginator

    def paginate_queryset(self, queryset, request, view=None):
        self.sort_visible = sorts_visible_rows(request, view)
        self.ranges = visible_ranges(request, view)
        return super().paginate_queryset(queryset, request, view)


class UpdatedCursorPagination(CursorPagination):
    ordering = ("updated_at", "id")
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_ordering(self, request, queryset, view):
        # Sync order is fixed, whatever ?ordering= asks for.
        return self.ordering

    def paginate_queryset(self, queryset, request, view=None):
        narrow = _NarrowSlices(queryset, sort_visible=sorts_visible_rows(request, view))
        # Duck-typed: cursor pagination only orders, filters and slices what it is given.
        return super().paginate_queryset(narrow, request, view)  # type: ignore[arg-type]


def keyset_ordering(queryset: QuerySet) -> tuple[str, ...] | None:
    """The list's order (its selector's, or ``?ordering=``) ending on the id; ``None`` when
    a keyset cannot follow it (an expression, a related or a nullable first field)."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    if not ordering or not all(isinstance(field, str) for field in ordering):
        return None
    first = ordering[0].lstrip("-")
    if "__" in first or first in ("?", "pk"):
        return None
    try:
        if queryset.model._meta.get_field(first).null:
            return None  # DRF's cursor cannot place a row after a NULL
    except FieldDoesNotExist:
        return None
    if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
        ordering.append("-id" if ordering[0].startswith("-") else "id")
    return tuple(ordering)


class ListCursorPagination(CursorPagination):
    """Keyset pages in the list's own order: each page is one index range, no ``count``."""

    cursor_query_param = "after"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    list_ordering: tuple[str, ...] | None = None

    def get_ordering(self, request, queryset, view):
        return self.list_ordering

    def paginate_queryset(self, queryset, request, view=None):
        # The selector's order, or what ?ordering= applied (the filters ran first).
        self.list_ordering = keyset_ordering(queryset)
        narrow = _NarrowSlices(
            queryset,
            sort_visible=sorts_visible_rows(request, view),
            ranges=visible_ranges(request, view),
        )
        # Duck-typed: cursor pagination only orders, filters and slices what it is given.
        return super().paginate_queryset(narrow, request, view)  # type: ignore[arg-type]


class SyncPagination(BasePagination):
    """Page numbers by default; cursor pagination when syncing; a keyset on the long lists
    unless ``?page=`` is given (see module docstring)."""

    def __init__(self) -> None:
        self.pages = PagePagination()
        self.cursor = UpdatedCursorPagination()
        self.keyset = ListCursorPagination()
        self.active: BasePagination = self.pages

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        if any(name in params for name in CURSOR_TRIGGERS):
            self.active = self.cursor
        elif (
            getattr(view, "keyset_pagination", False)
            and not any(name in params for name in PAGE_TRIGGERS)
            and keyset_ordering(queryset) is not None
        ):
            self.active = self.keyset
        else:
            self.active = self.pages
        return self.active.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.active.get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Total rows (page-number mode only: with `page`, or on "
                    "lists without keyset pages).",
                    "example": 123,
                },
                "next": link,
                "previous": link,
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        def param(name: str, schema: dict, description: str) -> dict:
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": schema,
            }

        return [
            param(
                "page",
                {"type": "integer", "minimum": 1},
                "Page number (page-number mode, with `count`; accounts, opportunities and "
                "activities use keyset pages unless it is given).",
            ),
            param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                "Rows per page (default 50).",
            ),
            param(
                "cursor",
                {"type": "string"},
                "Opaque cursor from `next`/`previous` (cursor mode, ordered by updated_at).",
            ),
            param(
                "after",
                {"type": "string"},
                "Opaque keyset position from `next`/`previous` (accounts, opportunities and "
                "activities without `page`: the list's own order, no `count`).",
            ),
        ]
