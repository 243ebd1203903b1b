from __future__ import annotations

from decimal import Decimal

import pytest

from planning import services
from tests.factories import AccountFactory


@pytest.fixture
def sales_task(executive, rep_a):
    """Two segments: Enterprise (>= 1000 employees; 2 accounts) and Mid-market (the other 3)."""
    AccountFactory.create_batch(2, owner=rep_a, employee_count=5000)
    AccountFactory.create_batch(3, owner=rep_a, employee_count=200)
    enterprise = services.segment_create(
        actor=executive, name="Enterprise", priority=10, employee_count_min=1000
    )
    mid = services.segment_create(actor=executive, name="Mid-market", priority=20)
    # Enterprise AE: 2 accounts x 30 x 10 h = 600 h; mid AE: 3 x 100 x 4 h = 1200 h.
    services.coverage_set(
        actor=executive, segment=enterprise, sales_role="ae",
        activities_per_account=Decimal(30), hours_per_activity=Decimal(10),
    )  # fmt: skip
    services.coverage_set(
        actor=executive, segment=mid, sales_role="ae",
        activities_per_account=Decimal(100), hours_per_activity=Decimal(4),
    )  # fmt: skip
    services.role_capacity_set(actor=executive, sales_role="ae", selling_hours=Decimal(1000))
    return enterprise, mid
