"""Reads for the product catalogue and the line items of deals.

The catalogue is company-wide: everyone reads it (reps pick products for their deals). Line
items are read through their deal, so they are exactly as visible as the deal.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from salesmgmt.models import User
from salesmgmt.money import quantize_money

from ..models import Opportunity, OpportunityLineItem, Product

HUNDRED = Decimal(100)


def line_total(*, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """One line's value: quantity * unit price * (1 - discount / 100), rounded to cents (the
    one money rule, half up); a deal's amount is the sum of these rounded line totals."""
    return quantize_money(quantity * unit_price * (1 - discount_percent / HUNDRED))


def product_list(
    *, family: str = "", is_active: bool | None = None, query: str = ""
) -> QuerySet[Product]:
    qs = Product.objects.all()
    if family:
        qs = qs.filter(family=family)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if query:
        qs = qs.filter(name__icontains=query)
    return qs.order_by("name", "id")


def product_get(*, pk: int) -> Product:
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404("No such product.")
    return product


def product_families() -> list[str]:
    """The families in use, for filters and suggestions (one query)."""
    return list(
        Product.objects.exclude(family="")
        .order_by("family")
        .values_list("family", flat=True)
        .distinct()
    )


def product_choices() -> QuerySet[Product]:
    """The products a line item may be added with: the active ones."""
    return Product.objects.filter(is_active=True).order_by("name", "id")


def line_item_list(*, opportunity: Opportunity) -> QuerySet[OpportunityLineItem]:
    """The deal's line items with their products (one query); fetch the deal through the
    visibility selector first."""
    return (
        OpportunityLineItem.objects.filter(opportunity_id=opportunity.pk)
        .select_related("product")
        .order_by("id")
    )


def line_item_get(*, viewer: User, pk: int) -> OpportunityLineItem:
    """A line item on a deal ``viewer`` may see; otherwise 404."""
    item = (
        OpportunityLineItem.objects.filter(
            pk=pk, opportunity__in=Opportunity.objects.visible_to(viewer)
        )
        .select_related("product", "opportunity")
        .first()
    )
    if item is None:
        raise Http404("No such line item.")
    return item


def line_items_total(*, opportunity_id: int) -> tuple[int, Decimal]:
    """How many line items the deal has and their total (the amount it follows)."""
    rows = OpportunityLineItem.objects.filter(opportunity_id=opportunity_id).values_list(
        "quantity", "unit_price", "discount_percent"
    )
    totals = [line_total(quantity=q, unit_price=p, discount_percent=d) for q, p, d in rows]
    return len(totals), sum(totals, Decimal(0))
