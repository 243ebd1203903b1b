"""API of the compensation app: statements with lines, disputes, plans, what-if, payroll CSV.

Reads go through ``compensation.selectors`` (a statement outside the caller's visibility is a
404), writes through ``compensation.services``; see ``salesmgmt.api.viewsets`` for what the
base classes add (ETag, Idempotency-Key, JSON errors). Money is a string with 2 decimals.
"""

from .deals import DealCreditViewSet
from .plans import PlanViewSet
from .statements import DisputeViewSet, StatementViewSet
from .tools import PayrollExportView, WhatIfView

__all__ = [
    "DealCreditViewSet",
    "DisputeViewSet",
    "PayrollExportView",
    "PlanViewSet",
    "StatementViewSet",
    "WhatIfView",
]
