"""Writes of the coaching app (``<entity>_<verb>``), re-exported."""

from .coaching import (
    action_add,
    action_complete,
    debrief_create,
    goal_add,
    plan_create,
    plan_evaluate,
    resource_request_create,
    resource_request_decide,
    skill_rate,
)
from .compliance import (
    compliance_mark_all,
    compliance_mark_rolled_over,
    compliance_refresh,
)
from .reviews import (
    action_item_add,
    action_item_complete,
    competitor_add,
    ensure_works_on,
    may_edit_review,
    negotiation_add,
    proof_add,
    proof_set_status,
    review_create,
    review_update,
    score_record,
    score_validate,
)

__all__ = [
    "action_add",
    "action_complete",
    "action_item_add",
    "action_item_complete",
    "competitor_add",
    "compliance_mark_all",
    "compliance_mark_rolled_over",
    "compliance_refresh",
    "debrief_create",
    "ensure_works_on",
    "goal_add",
    "may_edit_review",
    "negotiation_add",
    "plan_create",
    "plan_evaluate",
    "proof_add",
    "proof_set_status",
    "resource_request_create",
    "resource_request_decide",
    "review_create",
    "review_update",
    "score_record",
    "score_validate",
    "skill_rate",
]
