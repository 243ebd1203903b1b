"""Compensation pages: statements, approval, disputes, what-if, plans, payroll, deal credit.

Every record named in a URL is fetched through a visibility selector (a miss is a 404): reps
see their own statements, managers their subtree's, executives and admins everyone's. Writes
go through ``compensation.services``; a refused write re-renders the page with the service's
message (400, 403 or 409), a successful one redirects.
"""

from .deals import deal_cancel, deal_credit, deal_credit_splits
from .statements import (
    dispute_list,
    dispute_resolve,
    line_dispute,
    my_statements,
    run_compute,
    run_process,
    statement_adjust,
    statement_approve,
    statement_detail,
    team_statements,
)
from .tools import payroll, payroll_download, plan_list, whatif

__all__ = [
    "deal_cancel",
    "deal_credit",
    "deal_credit_splits",
    "dispute_list",
    "dispute_resolve",
    "line_dispute",
    "my_statements",
    "payroll",
    "payroll_download",
    "plan_list",
    "run_compute",
    "run_process",
    "statement_adjust",
    "statement_approve",
    "statement_detail",
    "team_statements",
    "whatif",
]
