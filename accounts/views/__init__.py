"""Pages for deals, accounts and activities: parse, call a selector or service, render.

Every record named in a URL is fetched through a visibility selector (a miss is a 404), every
write goes through accounts.services, and a successful write redirects (POST-redirect-GET).
"""

from .account_forms import account_create, account_edit
from .actions import (
    activity_log,
    completion_reject,
    completion_verify,
    milestone_complete,
    milestone_undo,
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_edit,
)
from .pages import account_detail, account_list, opportunity_detail, opportunity_list, rep_home

__all__ = [
    "account_create",
    "account_detail",
    "account_edit",
    "account_list",
    "activity_log",
    "completion_reject",
    "completion_verify",
    "milestone_complete",
    "milestone_undo",
    "opportunity_close_lost",
    "opportunity_close_won",
    "opportunity_detail",
    "opportunity_edit",
    "opportunity_list",
    "rep_home",
]
