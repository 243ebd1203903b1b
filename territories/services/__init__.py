"""Writes of the territories app, re-exported: territories and rules, account moves, the
balance monitor, quotas and company targets."""

from .assignments import (
    account_move,
    account_owners_move,
    assignment_apply,
    rebalance_apply,
)
from .attainment import (
    attainment_mark_all,
    attainment_refresh,
    attainment_refresh_all,
)
from .balance import balance_snapshot_record, balance_week_record, week_start_of
from .planning import (
    planning_mark_changed,
    planning_refresh,
    planning_refresh_request,
    rebalance_proposal_apply,
)
from .quotas import company_target_allocate, quota_update, ramp_schedule_set_default
from .territories import (
    overlay_add,
    overlay_end,
    rule_create,
    rule_update,
    territory_change_owner,
    territory_create,
    territory_edit,
    territory_update,
)

__all__ = [
    "account_move",
    "account_owners_move",
    "assignment_apply",
    "attainment_mark_all",
    "attainment_refresh",
    "attainment_refresh_all",
    "balance_snapshot_record",
    "balance_week_record",
    "company_target_allocate",
    "overlay_add",
    "overlay_end",
    "planning_mark_changed",
    "planning_refresh",
    "planning_refresh_request",
    "quota_update",
    "ramp_schedule_set_default",
    "rebalance_apply",
    "rebalance_proposal_apply",
    "rule_create",
    "rule_update",
    "territory_change_owner",
    "territory_create",
    "territory_edit",
    "territory_update",
    "week_start_of",
]
