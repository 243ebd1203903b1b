"""``{% rollup_row %}`` and ``{% rollup_rows %}``: the executive rollup tree's rows.

The tree opens on the executive's direct reports: 126 rows at the 1 M tier. Rendered by the
template engine (an include per row, ~40 variables, six ``floatformat``s and two ``{% url %}``
each) they took 40 ms of a 75 ms view (issue 21's budget for the page: 50 ms); built here with
``format_html`` the same markup takes a few. The values are those the template showed:
amounts through ``floatformat:"0g"`` (whole units, grouped), attainment localized, ids as
they are (an id is never a number to group).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from salesmgmt.models import Period, User
from salesmgmt.whole_amounts import WholeAmounts

from ..selectors.dashboards import RollupNode

register = template.Library()

DASH = "—"

ROW = (
    '<tr class="rollup-node" id="node-{pk}"{parent}>\n'
    '  <td data-label="Node">\n'
    '    <span class="rollup-node__name" style="--depth: {depth}">\n'
    "      {button}\n"
    '      <a href="{dashboard}?person={pk}&period={period}">{name}</a>{office}\n'
    "    </span>\n"
    "  </td>\n"
    '  <td class="num" data-label="Call"><span>{call}</span></td>\n'
    '  <td class="num" data-label="Change since last week"><span>{change}</span></td>\n'
    '  <td class="num" data-label="Weighted pipeline"><span>{weighted}</span></td>\n'
    '  <td class="num" data-label="P10"><span>{p10}</span></td>\n'
    '  <td class="num" data-label="P50"><span>{p50}</span></td>\n'
    '  <td class="num" data-label="P90"><span>{p90}</span></td>\n'
    '  <td class="num" data-label="Attainment"><span>{attainment}</span></td>\n'
    "</tr>\n"
)
COLLAPSE = (
    '<button type="button" class="button button--small rollup-expand" data-node="{pk}" '
    'data-loaded="1" aria-expanded="true" aria-label="Collapse {name}">\u2212</button>'
)
PARENT = ' data-parent="{parent}" data-ancestors="{ancestors}"'
OFFICE = mark_safe(' <span class="tag">Office</span>')  # a constant  # nosec B308 B703
EXPAND = (
    '<button type="button" class="button button--small rollup-expand" data-node="{pk}" '
    'aria-expanded="false" aria-label="Expand {name}"\n'
    '                  hx-get="{url}?period={period}&depth={depth}&ancestors={ancestors}"\n'
    '                  hx-trigger="click once" hx-target="#node-{pk}" hx-swap="afterend">+</button>'
)


class _Rows:
    """What every row of one table shares: the period, the dashboard's address, the format."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.dashboard = reverse("coaching:team_dashboard")
        self.whole = WholeAmounts()

    def amount(self, amount: Decimal | None) -> str:
        return self.whole(amount) or DASH

    def row(
        self, node: RollupNode, *, expanded: bool, parent: User | None = None, ancestors: str = ""
    ) -> SafeString:
        """The node template's row: the person (a button to fold or load their reports),
        the call and its change since last week, the forecast range and attainment."""
        person, period = node.person, self.period
        pk, name = str(person.pk), str(person)
        button = ""
        if node.has_children and expanded:
            button = format_html(COLLAPSE, pk=pk, name=name)
        elif node.has_children:
            url = reverse("coaching:rollup_node_children", args=[person.pk])
            button = format_html(
                EXPAND, pk=pk, name=name, url=url, period=period.pk, depth=node.depth + 1,
                ancestors=quote(ancestors, safe="/"),  # the urlencode filter's
            )  # fmt: skip
        change, rollup, percent = node.change, node.row.rollup, node.attainment.percent
        return format_html(
            ROW,
            pk=pk,
            parent=format_html(PARENT, parent=parent.pk, ancestors=ancestors) if parent else "",
            depth=node.depth,
            button=button,
            dashboard=self.dashboard,
            period=period.pk,
            name=name,
            office=OFFICE if person.is_org_unit else "",
            call=self.amount(node.call),
            change=DASH if change is None else ("+" if change > 0 else "") + self.whole(change),
            weighted=self.amount(rollup.weighted_amount if rollup else None),
            p10=self.amount(rollup.p10_amount if rollup else None),
            p50=self.amount(rollup.p50_amount if rollup else None),
            p90=self.amount(rollup.p90_amount if rollup else None),
            attainment=DASH if percent is None else f"{localize(percent)} %",
        )


@register.simple_tag
def rollup_row(node: RollupNode, period: Period) -> SafeString:
    """A root of the tree, expanded (its reports follow)."""
    return _Rows(period).row(node, expanded=True)


@register.simple_tag
def rollup_rows(
    children: list[RollupNode], parent: User, ancestors: str, period: Period
) -> SafeString:
    """The rows of ``parent``'s direct reports, folded (``ancestors``: the ids above them)."""
    rows = _Rows(period)
    return format_html_join(
        "",
        "{}",
        (
            (rows.row(node, expanded=False, parent=parent, ancestors=ancestors),)
            for node in children
        ),
    )
