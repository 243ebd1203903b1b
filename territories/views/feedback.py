"""What every territory page shows around its content: navigation."""

from __future__ import annotations

from ..permissions import can_manage_territories, can_plan_assignments, can_set_company_target


def nav_flags(user) -> dict[str, bool]:
    """Which links of territories/_nav.html the user gets."""
    return {
        "can_plan": can_plan_assignments(user),
        "can_allocate": can_set_company_target(user),
        "can_manage": can_manage_territories(user),
    }
