"""A standard plan for reps (tiers + quota bonus + compliance); FY2026 periods and ``q1``/``q2``
come from tests/fixtures/periods.py."""

from __future__ import annotations

import pytest

from compensation.models import ComponentKind
from salesmgmt.models import Role
from tests.compensation.factories import (
    BANDS,
    TIERED,
    PlanAssignmentFactory,
    PlanFactory,
    component,
    quota,
)


@pytest.fixture
def plan(db):
    """Reps: marginal tiers (clawback within 90 days), 1,000 at 100%, compliance bands."""
    plan = PlanFactory(name="AE plan")
    component(plan, ComponentKind.COMMISSION, TIERED, name="Commission", clawback_days=90)
    component(
        plan,
        ComponentKind.THRESHOLD_BONUS,
        {"threshold_percent": "100", "amount": "1000"},
        name="Quota club",
        order=1,
    )
    component(plan, ComponentKind.COMPLIANCE, BANDS, name="Documentation", order=2)
    PlanAssignmentFactory(plan=plan, role=Role.REP)
    return plan


@pytest.fixture
def quotas(q1, q2, rep_a, rep_b, se_a):
    return {
        (user.username, period.name): quota(user, period, "150000")
        for user in (rep_a, rep_b, se_a)
        for period in (q1, q2)
    }


@pytest.fixture
def paid(process, plan, quotas, q1, rep_a, se_a, rep_b, executive):
    """A processed FY2026 Q1 run: one statement each for rep_a, se_a and rep_b."""
    import datetime as dt

    from compensation import services
    from tests.compensation.factories import won_deal

    won_deal(rep_a, "145000", dt.date(2026, 1, 20), name="Big rollout")
    won_deal(rep_a, "20000", dt.date(2026, 2, 1), name="Add-on")
    won_deal(se_a, "10000", dt.date(2026, 2, 2), name="Sierra pilot")
    won_deal(rep_b, "30000", dt.date(2026, 2, 3), name="Bravo")
    run = services.payout_run_compute(period=q1, actor=executive)
    run = services.payout_run_process(run=run, actor=executive)
    statements = {s.rep.username: s for s in run.statements.select_related("rep")}
    return {
        "run": run,
        "a": statements["rep_a"],
        "se": statements["se_a"],
        "b": statements["rep_b"],
    }
