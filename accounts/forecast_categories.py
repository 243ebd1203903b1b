"""The effective forecast category of a deal: the one rule every figure uses.

1. a won deal is Closed; a lost deal is in no category (it leaves the forecast);
2. otherwise the category the rep chose (``Opportunity.forecast_category``, blank = no choice);
3. otherwise the default of the deal's stage (``Stage.default_forecast_category``);
4. otherwise (no stage) Pipeline.

Three forms of the same rule, tested against each other (tests/accounts/test_categories.py):
``effective_category`` (one deal, Python), ``effective_category_expression`` (the ORM, for
lists and filters) and ``forecasting.analytics.rollups.effective_category`` (pandas, for the
aggregates). The reconciliation's SQL is
``CASE status WHEN 'won' THEN 'closed' WHEN 'lost' THEN NULL
ELSE coalesce(nullif(forecast_category, ''), stage.default_forecast_category, 'pipeline') END``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Coalesce, NullIf


class EffectiveCategory(models.TextChoices):
    """Every effective category: the ones a rep chooses plus Closed (follows from a won deal)."""

    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


CLOSED = EffectiveCategory.CLOSED.value
FALLBACK = EffectiveCategory.PIPELINE.value
WON, LOST = "won", "lost"
LABELS = dict(EffectiveCategory.choices)
NOT_IN_FORECAST = "Not in forecast"


def effective_category(*, status: str, chosen: str | None, stage_default: str | None) -> str | None:
    """The category a deal counts in (None: lost, out of the forecast); see the module rule."""
    if status == WON:
        return CLOSED
    if status == LOST:
        return None
    return chosen or stage_default or FALLBACK


def effective_category_expression(prefix: str = "") -> Case:
    """The same rule as a database expression over ``Opportunity`` (``prefix`` for joins)."""
    return Case(
        When(**{f"{prefix}status": WON}, then=Value(CLOSED)),
        When(**{f"{prefix}status": LOST}, then=Value(None)),
        default=Coalesce(
            NullIf(F(f"{prefix}forecast_category"), Value("")),
            F(f"{prefix}stage__default_forecast_category"),
            Value(FALLBACK),
        ),
        output_field=CharField(),
    )


def label(category: str | None) -> str:
    """How a page names an effective category."""
    return NOT_IN_FORECAST if category is None else LABELS.get(category, category)
