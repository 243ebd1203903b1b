"""What every territory page shows around its content: error flashes, navigation."""

from __future__ import annotations

from salesmgmt.errors import ApplicationError

from ..permissions import can_manage_territories, can_plan_assignments, can_set_company_target


def error_text(error: Exception) -> str:
    """A service error as one line for a flash message."""
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(error.messages)


def nav_flags(user) -> dict[str, bool]:
    """Which links of territories/_nav.html the user gets."""
    return {
        "can_plan": can_plan_assignments(user),
        "can_allocate": can_set_company_target(user),
        "can_manage": can_manage_territories(user),
    }
