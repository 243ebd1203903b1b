"""The owner's forecast-category override of a deal (see analytics.rollups for the rule)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services as deal_services
from accounts.models import ForecastCategory, Opportunity
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import User

from ..models import CategoryOverride


@transaction.atomic
def set_category(
    *, actor: User, opportunity: Opportunity, category: str, note: str = ""
) -> CategoryOverride:
    """Override (or with ``category=""`` clear the override of) an open deal's category.

    Only the owner decides; the deal's own field follows through accounts' update service,
    so the change log records it like any other edit.
    """
    if actor.pk != opportunity.owner_id:
        raise PermissionDeniedError("Only the deal's owner sets its forecast category.")
    if not opportunity.is_open:
        raise ValidationError("Only an open deal has a forecast category to choose.")
    if category and category not in ForecastCategory.values:
        raise ValidationError({"category": f"Unknown category {category!r}."})
    previous = opportunity.forecast_category
    new_value = category or (
        opportunity.stage.default_forecast_category if opportunity.stage else "pipeline"
    )
    deal_services.update_opportunity(
        actor=actor, opportunity=opportunity, forecast_category=new_value
    )
    override = CategoryOverride(
        opportunity=opportunity,
        category=category,
        previous_category=previous,
        set_by=actor,
        note=note.strip(),
    )
    override.full_clean()
    override.save()
    return override
