"""``{% table_rows "accounts/rep_home_rows.html" %}``: a table's rows by Jinja2
(salesmgmt.table_rows), with the page's context."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..table_rows import row_templates, whole_amounts

register = template.Library()


@register.simple_tag(takes_context=True)
def table_rows(context: template.Context, name: str) -> SafeString:
    values: dict[str, Any] = {str(key): value for key, value in context.flatten().items()}
    # ``whole(amount)``: floatformat:"0g", the language's format read once per table.
    values["whole"] = whole_amounts()
    rows = row_templates().get_template(name).render(values)
    # Jinja2 escaped every value it inserted (autoescape, as in a Django template).
    return mark_safe(rows)  # noqa: S308  # nosec B308 B703
