"""Forecasting: calls and adjustments, and the aggregate tables dashboards read.

Two kinds of tables live here:

- records people make (``ForecastCall``, ``CallOfRecord``): append-only
  audit trails, never edited in place;
- aggregates the workers compute (``DealProbability``, ``ForecastRollup``, ``KpiSnapshot``,
  ``TrialVector``, ``CalibrationBucket``, ``OpportunitySnapshot``, ``InspectionFlag``,
  ``AccuracyEntry``): rebuilt by ``forecasting.services.recompute`` with delete+insert per
  scope in one transaction, so running a recompute twice leaves the same rows.

Money rule: amounts are in the reporting currency (``salesmgmt.money``), quantized to cents with
ROUND_HALF_UP when stored.
"""

from .aggregates import (
    MONEY,
    AccuracyEntry,
    CalibrationBucket,
    DealProbability,
    FlagKind,
    ForecastRollup,
    ForecastSource,
    InspectionFlag,
    KpiSnapshot,
    OpportunitySnapshot,
    ProbabilityModel,
    SubtreeTrialVector,
    TrialVector,
)
from .records import (
    CallLayer,
    CallOfRecord,
    Category,
    ForecastCall,
    Scope,
)
from .runs import RecomputeRun, RecomputeShard

__all__ = [
    "MONEY",
    "AccuracyEntry",
    "CalibrationBucket",
    "CallLayer",
    "CallOfRecord",
    "Category",
    "DealProbability",
    "FlagKind",
    "ForecastCall",
    "ForecastRollup",
    "ForecastSource",
    "InspectionFlag",
    "KpiSnapshot",
    "OpportunitySnapshot",
    "ProbabilityModel",
    "RecomputeRun",
    "RecomputeShard",
    "Scope",
    "SubtreeTrialVector",
    "TrialVector",
]
