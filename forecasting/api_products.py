"""``/api/v1/product-kpis/``: win rate and revenue by product for a period and a node.

``?period=`` any period (quarter, year or month; default: the current quarter) and
``?person=`` a person you can see (their subtree; default: you, or the whole company for
those who see everyone). Figures are defined in ``forecasting.selectors.products``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from salesmgmt.api.fields import MAX_ID
from salesmgmt.api.pagination import MAX_PAGE_SIZE
from salesmgmt.models import Period
from salesmgmt.selectors import period_get

from .selectors import reads
from .selectors.products import product_figures


class ProductFiguresQuery(serializers.Serializer):
    period = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    person = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class ProductFiguresSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    name = serializers.CharField()
    family = serializers.CharField()
    is_active = serializers.BooleanField()
    won_count = serializers.IntegerField()
    lost_count = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="won / (won + lost)")
    won_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2, help_text="Reporting currency."
    )
    open_count = serializers.IntegerField()
    pipeline_amount = serializers.DecimalField(
        max_digits=20, decimal_places=2, help_text="Reporting currency."
    )


class ProductFiguresPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class ProductKpiView(APIView):
    """Per product: deals won and lost in the period, win rate, won revenue and open
    pipeline (reporting currency), over the person's subtree; best sellers first."""

    pagination_class = ProductFiguresPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("period", OpenApiTypes.INT, description="Default: this quarter."),
            OpenApiParameter("person", OpenApiTypes.INT, description="Default: you (or all)."),
        ],
        responses=ProductFiguresSerializer(many=True),
    )
    def get(self, request):
        query = ProductFiguresQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        period: Period = period_get(pk=query.validated_data.get("period"))
        viewer = request.user
        person_id = query.validated_data.get("person")
        if person_id is not None:
            node = reads.person_get(viewer=viewer, pk=person_id)
        else:
            node = None if viewer.sees_everyone else viewer
        rows = product_figures(period=period, node=node)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = ProductFiguresSerializer(page, many=True).data
        return paginator.get_paginated_response(data)
