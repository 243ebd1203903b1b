"""Win rate and revenue by product, for a period and a node of the hierarchy (live).

Per product, over the deals that carry it as a line item, owned by the node or anyone below:

- won / lost: deals closed won / lost in the period (``closed_on``), each counted once per
  product however many lines it has of it; win rate = won / (won + lost);
- won revenue: the product's line totals (quantity * unit price * (1 - discount / 100), each
  rounded to cents as the deal amount is) on deals won in the period, in the reporting
  currency at the rate of the close day, as the KPI won amounts are converted;
- open pipeline: line totals on open deals expected to close in the period, omitted deals
  left out (as the KPI pipeline), converted at the rate of the expected close day.

Deals without line items are in no product. Computed by one grouped query over the line items
(product, status, currency, day) plus the exchange rates: the KPI snapshots have no product
dimension, and the grouped rows stay few (products x currencies x days in the period).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Round

from accounts.forecast_categories import EffectiveCategory, effective_category_expression
from accounts.models import Opportunity, OpportunityLineItem
from salesmgmt.models import Period, User
from salesmgmt.money import RateTable, quantize_money

WON, LOST, OPEN = Opportunity.Status.WON, Opportunity.Status.LOST, Opportunity.Status.OPEN


@dataclass
class ProductFigures:
    product_id: int
    name: str
    family: str
    is_active: bool
    won_count: int = 0
    lost_count: int = 0
    won_amount: Decimal = Decimal(0)
    open_count: int = 0
    pipeline_amount: Decimal = Decimal(0)

    @property
    def win_rate(self) -> float | None:
        decided = self.won_count + self.lost_count
        return round(self.won_count / decided, 4) if decided else None


def _line_value() -> ExpressionWrapper:
    # Times 0.01, not divided by 100: SQLite stores whole decimals as integers (10 / 100 = 0).
    kept = Value(Decimal(1)) - F("discount_percent") * Value(Decimal("0.01"))
    exact = F("quantity") * F("unit_price") * kept
    return ExpressionWrapper(
        Round(exact, 2), output_field=DecimalField(max_digits=20, decimal_places=2)
    )


def _grouped_rows(*, period: Period, node: User | None):
    """One row per product, status, currency and day: distinct deals and line value."""
    in_period = Q(
        opportunity__status__in=[WON, LOST],
        opportunity__closed_on__gte=period.start_on,
        opportunity__closed_on__lte=period.end_on,
    ) | Q(
        opportunity__status=OPEN,
        opportunity__expected_close_on__gte=period.start_on,
        opportunity__expected_close_on__lte=period.end_on,
    )
    lines = OpportunityLineItem.objects.filter(in_period).alias(
        category=effective_category_expression("opportunity__")
    )
    lines = lines.exclude(opportunity__status=OPEN, category=EffectiveCategory.OMITTED)
    if node is not None:  # the node and everyone below it, at any depth
        lines = lines.filter(
            Q(opportunity__owner_id=node.pk)
            | Q(opportunity__owner__ancestor_path__startswith=node.subtree_path)
        )
    return (
        lines.values(
            "product_id",
            "product__name",
            "product__family",
            "product__is_active",
            "opportunity__status",
            "opportunity__currency",
            day=Coalesce("opportunity__closed_on", "opportunity__expected_close_on"),
        )
        .annotate(deals=Count("opportunity_id", distinct=True), value=Sum(_line_value()))
        .order_by()
    )


def product_figures(
    *, period: Period, node: User | None, rates: RateTable | None = None
) -> list[ProductFigures]:
    """Every product with deals in the period under ``node`` (None: the whole company), the
    best sellers first (won revenue, then open pipeline)."""
    rates = rates or RateTable.load()
    figures: dict[int, ProductFigures] = {}
    amounts: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for row in _grouped_rows(period=period, node=node):
        product = figures.setdefault(
            row["product_id"],
            ProductFigures(
                row["product_id"],
                row["product__name"],
                row["product__family"],
                row["product__is_active"],
            ),
        )
        status = row["opportunity__status"]
        count_field = {WON: "won_count", LOST: "lost_count", OPEN: "open_count"}[status]
        setattr(product, count_field, getattr(product, count_field) + row["deals"])
        value = quantize_money(Decimal(str(row["value"] or 0)))
        converted = rates.convert(value, row["opportunity__currency"], row["day"])
        amounts[(row["product_id"], status)] += converted
    for (product_id, status), amount in amounts.items():
        if status == WON:
            figures[product_id].won_amount = amount
        elif status == OPEN:
            figures[product_id].pipeline_amount = amount
    return sorted(
        figures.values(),
        key=lambda f: (-f.won_amount, -f.pipeline_amount, f.name.casefold(), f.product_id),
    )
