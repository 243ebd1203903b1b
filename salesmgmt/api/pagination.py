"""Pagination on every list: page numbers for people, a cursor on ``updated_at`` for sync.

``?page=2&page_size=100`` gives numbered pages with a total ``count``. With ``updated_since``
(or a ``cursor`` from a previous page) the list switches to cursor pagination ordered by
``(updated_at, id)``: stable while rows change, and a row edited during a sync moves to the
end, so a client that follows ``next`` to the end sees every change exactly once more.

The long lists (accounts, deals, activities: views with ``keyset_pagination = True``) page
by default with a keyset in the list's own order (``?after=`` from ``next``, no ``count``):
counting and sorting every visible row made a page cost what the whole list costs (an
executive's activities: all 2,000,000). ``?page=`` still gives numbered pages with a count.

Whatever the mode, a page is read with ``salesmgmt.row_slices.narrow_slice`` (the page's ids
first, from the visible index ranges where the view names them: ``keyset_ranges``).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination

from salesmgmt.row_slices import VisibleRanges, narrow_slice, with_unique_order

MAX_PAGE_SIZE = 500
CURSOR_TRIGGERS = ("cursor", "updated_since")
PAGE_TRIGGERS = ("page",)


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
