"""Pagination on every list: page numbers for people, a cursor on ``updated_at`` for sync.

``?page=2&page_size=100`` gives numbered pages with a total ``count``. With ``updated_since``
(or a ``cursor`` from a previous page) the list switches to cursor pagination ordered by
``(updated_at, id)``: stable while rows change, and a row edited during a sync moves to the
end, so a client that follows ``next`` to the end sees every change exactly once more.
"""

from __future__ import annotations

from rest_framework.pagination import BasePagination, CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 500
CURSOR_TRIGGERS = ("cursor", "updated_since")


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class UpdatedCursorPagination(CursorPagination):
    ordering = ("updated_at", "id")
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_ordering(self, request, queryset, view):
        # Sync order is fixed, whatever ?ordering= asks for.
        return self.ordering


class SyncPagination(BasePagination):
    """Page numbers by default; cursor pagination when syncing (see module docstring)."""

    def __init__(self) -> None:
        self.pages = PagePagination()
        self.cursor = UpdatedCursorPagination()
        self.active: BasePagination = self.pages

    def paginate_queryset(self, queryset, request, view=None):
        syncing = any(name in request.query_params for name in CURSOR_TRIGGERS)
        self.active = self.cursor if syncing else self.pages
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
                    "description": "Total rows (page-number mode only).",
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
            param("page", {"type": "integer", "minimum": 1}, "Page number (page-number mode)."),
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
        ]
