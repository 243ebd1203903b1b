"""The main navigation: the sections each person gets, by the access rules the pages use.

One list, in the order the header shows it. Each section names who it serves with a rule of
``salesmgmt.visibility`` (the one policy the pages check too), so a link is shown exactly to
the people the page is for: no rep sees the team dashboard, territories or quota planning,
nobody but an administrator sees Setup or People. The pages check the same rule
(``salesmgmt.decorators.page_for(leads_people, ...)`` on the dashboard, rollup, territories
and quotas: 403 like every forbidden page), so a hidden link is a closed page too.
tests/salesmgmt/test_navigation.py opens every section's page as every role: 200 exactly when
the link is shown, else 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from .models import User
from .visibility import (
    administers,
    leads_people,
    may_capture,
    may_invite,
    plans_sales_force,
    reads_feedback,
)


def _everyone(user: User) -> bool:
    return True


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str
    serves: Callable[[User], bool]
    # The pages (URL names, or a whole app as "app:") during which the link is current.
    current: tuple[str, ...] = ()
    of_self: bool = False  # the URL takes the person's own id

    def url_for(self, user: User) -> str:
        return reverse(self.url_name, args=[user.pk] if self.of_self else [])

    def is_current(self, app_name: str, url_name: str) -> bool:
        return url_name in self.current or f"{app_name}:" in self.current


SECTIONS: tuple[Section, ...] = (
    Section("My work", "accounts:rep_home", _everyone, ("rep_home",)),
    Section(
        "Opportunities",
        "accounts:opportunity_list",
        _everyone,
        ("opportunity_list", "opportunity_detail"),
    ),
    Section("Accounts", "accounts:account_list", _everyone, ("account_list", "account_detail")),
    Section("Products", "accounts:product_list", _everyone, ("product_list", "product_detail")),
    Section(
        "Dashboard",
        "coaching:team_dashboard",
        leads_people,
        ("team_dashboard", "executive_rollup"),
    ),
    Section(
        "Coaching",
        "coaching:rep_coaching",
        _everyone,
        (
            "rep_coaching",
            "debrief_list",
            "plan_list",
            "plan_detail",
            "onboarding",
            "programme_list",
            "programme_detail",
            "enrolment_detail",
        ),
        of_self=True,
    ),
    Section("Reviews", "coaching:review_list", _everyone, ("review_list", "review_detail")),
    Section("Forecast", "forecasting:forecast", _everyone, ("forecasting:",)),
    Section("Territories", "territories:overview", leads_people, ("overview",)),
    Section("Quotas", "territories:quota_plan", leads_people, ("quota_plan",)),
    Section("Compensation", "compensation:my_statements", _everyone, ("compensation:",)),
    # Captured mail and meetings waiting to be filed; the capture settings page hangs off it.
    Section("Unfiled", "capture:unfiled", may_capture, ("capture:",)),
    Section("Plan", "planning:plan", plans_sales_force, ("planning:",)),
    # Win/loss against the sales task: managers read their team's (salesmgmt.visibility).
    Section("Feed back", "planning:feedback", reads_feedback, ("feedback",)),
    Section(
        "Setup",
        "setup_checklist",
        administers,
        ("setup_checklist", "process_list", "process_detail"),
    ),
    Section("People", "people_invitations", may_invite, ("people_invitations",)),
    Section("Admin", "admin:index", lambda user: user.is_staff),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    is_current: bool


def sections_for(user: User, *, app_name: str = "", url_name: str = "") -> list[NavLink]:
    """The header's links for ``user``, the current page's marked (no query)."""
    return [
        NavLink(section.label, section.url_for(user), section.is_current(app_name, url_name))
        for section in SECTIONS
        if section.serves(user)
    ]


def main_navigation(request: HttpRequest) -> dict[str, object]:
    """Context processor: ``main_nav`` for a signed-in person, computed only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = request.resolver_match

    def links() -> list[NavLink]:
        return sections_for(
            user,
            app_name=match.app_name if match else "",
            url_name=match.url_name or "" if match else "",
        )

    return {"main_nav": links}
