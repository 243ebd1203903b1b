"""Pagination for list pages: 25 rows a page, links that keep the other query parameters."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from salesmgmt.row_slices import with_unique_order

PAGE_SIZE = 25


@dataclass
class Pager:
    """A page of a list plus links that keep the rest of the query string."""

    page: Page
    param: str
    query: QueryDict
    base: str = ""

    def url(self, number: int) -> str:
        query = self.query.copy()
        query[self.param] = str(number)
        return f"{self.base}?{query.urlencode()}"

    @property
    def previous_url(self) -> str:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def first_url(self) -> str:
        return self.url(1)

    @property
    def last_url(self) -> str:
        return self.url(self.page.paginator.num_pages)


def paginate(
    request: HttpRequest, items, *, param: str = "page", base: str = "", per_page: int = PAGE_SIZE
) -> Pager:
    """25 rows per page; a bad or out-of-range page number shows the nearest real page.

    ``base`` is the page's own URL, for pages also rendered by a refused POST elsewhere.
    """
    number = request.GET.get(param)
    if isinstance(items, QuerySet):
        items = with_unique_order(items)  # tied rows would move between pages
        if number in (None, "", "1"):
            return Pager(
                page=_first_page(items, per_page), param=param, query=request.GET, base=base
            )
    page = Paginator(items, per_page).get_page(number)
    page.object_list = list(page.object_list)
    return Pager(page=page, param=param, query=request.GET, base=base)


def _first_page(items: QuerySet, per_page: int) -> Page:
    """The first page read with one row more than it shows: a list that fits on it (a deal's
    activities and history, a rep's open deals, mostly) is counted by its length, not by a
    COUNT(*) query; a longer one is counted as before."""
    rows = list(items[: per_page + 1])
    paginator = Paginator(items, per_page)
    if len(rows) <= per_page:
        paginator.count = len(rows)  # a cached_property: set, it is not computed
    return Page(rows[:per_page], 1, paginator)
