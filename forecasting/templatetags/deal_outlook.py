"""``{% deal_outlook deal %}``: the deal page's win probability panel.

The deal page belongs to accounts, below forecasting in the layers; it names this tag
instead of importing forecasting, and the tag reads through ``selectors.outlook`` (the deal
was fetched through the visibility selector by the page)."""

from __future__ import annotations

from django import template

from accounts.models import Opportunity

from ..selectors.outlook import deal_outlook as outlook_get

register = template.Library()


@register.inclusion_tag("forecasting/deal_outlook.html")
def deal_outlook(deal: Opportunity) -> dict:
    outlook = outlook_get(opportunity=deal) if deal.status == Opportunity.Status.OPEN else None
    return {"deal": deal, "outlook": outlook}
