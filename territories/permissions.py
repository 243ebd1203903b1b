"""Who may change what in territories and quotas (reads follow salesmgmt.visibility).

- Territories and assignment rules: executives and admins.
- Previewing and applying assignments or a rebalancing: executives and admins for every
  territory; managers for the territories owned by themselves or someone in their subtree.
- Quotas: a person's managers (at any level), executives and admins; nobody edits their own.
- The company target and its allocation: executives and admins.
Integrators read through the API and change nothing here.
"""

from __future__ import annotations

from salesmgmt.models import Role, User
from salesmgmt.visibility import manages


def is_planner(user: User) -> bool:
    """Executives and admins: they run territories, rules and company targets."""
    return user.is_superuser or user.role in (Role.EXECUTIVE, Role.ADMIN)


def can_manage_territories(user: User) -> bool:
    return is_planner(user)


def can_plan_assignments(user: User) -> bool:
    """May preview and apply moves (managers within their own subtree's territories)."""
    return is_planner(user) or user.role == Role.MANAGER


def can_edit_quota_of(actor: User, person: User) -> bool:
    return actor.role != Role.INTEGRATOR and manages(actor, person)


def can_set_company_target(user: User) -> bool:
    return is_planner(user)
