"""``floatformat:"0g"`` of amounts, faster: the executive rollup's rows
(coaching.templatetags.rollup_tree) and the Jinja2 table rows (salesmgmt.table_rows)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.template.defaultfilters import floatformat
from django.utils.formats import get_format
from django.utils.safestring import mark_safe


class WholeAmounts:
    """``floatformat:"0g"`` of amounts (whole units, half up, grouped as the active language
    groups them): the same text, with the language's separator and grouping read once per
    table instead of three translation lookups per amount (six amounts a row)."""

    def __init__(self) -> None:
        self.separator = get_format("THOUSAND_SEPARATOR")
        self.grouping = get_format("NUMBER_GROUPING")

    def __call__(self, amount: Decimal | None) -> str:
        if amount is None:
            return ""
        if not isinstance(amount, Decimal) or not amount.is_finite() or self.grouping != 3:
            return floatformat(amount, "0g")  # not a plain amount, or not groups of three
        text = f"{int(amount.to_integral_value(rounding=ROUND_HALF_UP)):,}"
        # Safe as floatformat's text is: digits, a sign and the language's separator.
        grouped = text if self.separator == "," else text.replace(",", self.separator)
        return mark_safe(grouped)  # noqa: S308  # nosec B308 B703
