"""Territory and quota pages: parse, call a selector or service, render."""

from .editing import rule_form, territory_form
from .overview import (
    assignment_apply,
    assignment_preview,
    overview,
    planning_recompute,
    rebalance_apply,
)
from .quotas import allocation, quota_edit, quota_plan

__all__ = [
    "allocation",
    "assignment_apply",
    "assignment_preview",
    "overview",
    "planning_recompute",
    "quota_edit",
    "quota_plan",
    "rebalance_apply",
    "rule_form",
    "territory_form",
]
