"""``GET /api/v1/search/?q=``: the global search (``accounts.selectors.search``) as JSON.

The header box's suggestions and integrators read the same hits the ``/search/`` page shows:
grouped by kind (accounts, contacts, opportunities, activities), best first, each kind's page
``page_size`` hits long; ``kind=`` narrows to one kind. ``next`` is set while any kind has more.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from ..selectors import search

MAX_PAGE = 1000
MAX_PAGE_SIZE = 50


class SearchQuerySerializer(serializers.Serializer):
    """The query string, checked before any read: bad input is a 400 naming the field."""

    q = serializers.CharField(
        min_length=search.MIN_QUERY_LENGTH, max_length=search.MAX_QUERY_LENGTH
    )
    kind = serializers.ChoiceField(choices=search.KINDS, required=False)
    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)

    def validate_q(self, value: str) -> str:
        # Trimmed already (CharField), so min_length counted what remains: never shorter here.
        return search.normalize_query(value)


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=search.KINDS)
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    detail = serializers.CharField()
    match = serializers.IntegerField(
        help_text="0: the title is the query; 1: it starts with it; 2: it contains it elsewhere."
    )
    url = serializers.CharField(help_text="The page that shows it.")


SearchPageSerializer = inline_serializer(
    "SearchPage",
    {
        "query": serializers.CharField(),
        "page": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "kinds": serializers.DictField(
            child=serializers.BooleanField(),
            help_text="Each kind searched, and whether it has more hits after this page.",
        ),
        "results": SearchHitSerializer(many=True),
    },
)


class SearchView(APIView):
    """Accounts, contacts, deals and activities you may see that match ``q``, ranked: the
    title equal to the query, then starting with it, then by similarity. Every word of
    ``q`` must appear (a two-letter word at the start of a name or e-mail); activities'
    notes are searched by the words of 3 letters or more."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, required=True, description="2 to 100 characters."
            ),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(search.KINDS)),
            OpenApiParameter("page", OpenApiTypes.INT, description="Default 1."),
            OpenApiParameter(
                "page_size",
                OpenApiTypes.INT,
                description=f"Hits per kind: default {search.PER_KIND} "
                f"({search.PER_KIND * 5} with kind=), at most {MAX_PAGE_SIZE}.",
            ),
        ],
        responses=SearchPageSerializer,
    )
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        kind = data.get("kind")
        per_kind = data.get("page_size") or (search.PER_KIND * 5 if kind else search.PER_KIND)
        results = search.global_search(
            viewer=request.user,
            query=data["q"],
            kinds=(kind,) if kind else search.KINDS,
            page=data["page"],
            per_kind=per_kind,
        )
        return Response(
            {
                "query": results.query,
                "page": results.page,
                "next": self._page_url(request, results.page + 1) if results.has_next else None,
                "previous": self._page_url(request, results.page - 1) if results.page > 1 else None,
                "kinds": {group.kind: group.has_more for group in results.groups},
                "results": SearchHitSerializer(results.hits, many=True).data,
            }
        )

    @staticmethod
    def _page_url(request, page: int) -> str:
        url = request.build_absolute_uri()
        return (
            remove_query_param(url, "page") if page == 1 else replace_query_param(url, "page", page)
        )
