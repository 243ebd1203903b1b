"""The global search page, ``/search/``: the header box's Enter, grouped hits, more by kind."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from salesmgmt.decorators import people_only

from ..forms import GlobalSearchForm
from ..selectors import search

# Hits of one kind on the page of that kind (``?kind=``); everything shows PER_KIND a kind.
KIND_PAGE_SIZE = 25


@people_only
@require_safe
def global_search(request: HttpRequest) -> HttpResponse:
    """Everything the viewer may see matching ``q``; a too-short query is a 400 saying so."""
    form = GlobalSearchForm(request.GET) if "q" in request.GET else GlobalSearchForm()
    results = None
    if form.is_bound and form.is_valid():
        kind = form.cleaned_data["kind"]
        results = search.global_search(
            viewer=request.user,
            query=form.cleaned_data["q"],
            kinds=(kind,) if kind else search.KINDS,
            page=form.cleaned_data["page"] or 1,
            per_kind=KIND_PAGE_SIZE if kind else search.PER_KIND,
        )
    context = {
        "form": form,
        "query": form.cleaned_data.get("q", "") if form.is_bound else "",
        "kind": form.cleaned_data.get("kind", "") if form.is_bound else "",
        "results": results,
        "page_query": _page_query(request),
        "notes_left_out": results is not None
        and "activity" not in {group.kind for group in results.groups}
        and form.cleaned_data["kind"] in ("", "activity"),
        "min_notes_length": search.MIN_NOTES_QUERY_LENGTH,
    }
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "accounts/search.html", context, status=status)


def _page_query(request: HttpRequest) -> str:
    """The query string without ``page`` and ``kind``, for the page's own links."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("kind", None)
    return query.urlencode()
