"""The product catalogue and deals' line items in the API.

``/api/v1/products/``: everyone reads the catalogue; administrators and integrations create,
edit and archive products (``accounts.services.may_manage_products``).
``/api/v1/opportunities/{deal_id}/line-items/``: the line items of a deal you can see; whoever
may work on the deal adds, edits and removes them, and the deal's amount follows their total
(see the rule in ``accounts.services``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Model
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings

from salesmgmt.api.fields import MoneyField, VisibleRelatedField
from salesmgmt.api.filters import SyncFilterSet
from salesmgmt.api.viewsets import VisibleModelViewSet
from salesmgmt.models import User

from .. import services
from ..models import OpportunityLineItem, Product
from ..selectors import products as catalogue
from .nested import DealNestedViewSet, deal_nested_schema


class ProductSerializer(serializers.ModelSerializer):
    list_price = MoneyField(required=False)
    currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO code; default: the reporting currency."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "family",
            "list_price",
            "currency",
            "is_active",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"external_id": {"required": False}, "is_active": {"required": False}}


class ProductFilter(SyncFilterSet):
    active = filters.BooleanFilter(field_name="is_active", label="Only active (or archived).")

    class Meta:
        model = Product
        fields = ["family", "active", "external_id"]


class ManagesProducts(BasePermission):
    """Everyone reads the catalogue; administrators and integrations change it: anyone else
    gets 403 before the body is read."""

    message = "Only an administrator can change the product catalogue."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or services.may_manage_products(request.user)


class ProductViewSet(VisibleModelViewSet):
    """The product catalogue (name, family, list price, currency); archived products stay
    on the deals that have them."""

    queryset = Product.objects.none()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, ManagesProducts]
    search_fields = ["name", "family", "external_id"]
    ordering_fields = ["name", "family", "list_price", "updated_at"]

    def visible_queryset(self):
        return catalogue.product_list()

    def perform_create(self, data: dict) -> Model:
        return services.product_create(actor=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        return services.product_update(actor=self.request.user, product=instance, **data)

    @extend_schema(request=None, responses=ProductSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the product: no new line items with it; deals keep theirs."""
        product = services.product_archive(actor=request.user, product=self.get_object())
        return self.record_response(self.reload(product))


def _active_products(user: User):
    return Product.objects.filter(is_active=True)


class LineItemSerializer(serializers.ModelSerializer):
    """A product on a deal; ``unit_price`` defaults to the product's list price (when in the
    deal's currency); ``total`` = quantity * unit price * (1 - discount / 100), in cents."""

    product = VisibleRelatedField(queryset=Product.objects.all(), visible=_active_products)
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    unit_price = MoneyField(required=False, allow_null=True)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), required=False
    )
    total = serializers.SerializerMethodField()

    class Meta:
        model = OpportunityLineItem
        fields = [
            "id",
            "product",
            "quantity",
            "unit_price",
            "discount_percent",
            "total",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "total", "created_at", "updated_at"]

    def get_total(self, item: OpportunityLineItem) -> str:
        return str(
            catalogue.line_total(
                quantity=item.quantity,
                unit_price=item.unit_price,
                discount_percent=item.discount_percent,
            )
        )


@deal_nested_schema
class LineItemViewSet(DealNestedViewSet):
    """A deal's line items: the deal must be one you can see (else 404); adding, editing and
    removing one is for whoever may work on the deal, and sets the deal's amount."""

    queryset = OpportunityLineItem.objects.none()
    serializer_class = LineItemSerializer

    def rows_of(self, deal):
        return catalogue.line_item_list(opportunity=deal)

    def perform_create(self, data: dict) -> Model:
        return services.line_item_add(actor=self.request.user, opportunity=self.deal(), **data)

    def perform_update(self, instance, data, expected_version):
        return services.line_item_update(actor=self.request.user, line_item=instance, **data)

    def remove(self, instance) -> None:
        """The deal's amount follows the other line items."""
        services.line_item_remove(actor=self.request.user, line_item=instance)
