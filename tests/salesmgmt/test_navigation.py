"""The main navigation per role: every link shown opens a page (200) for that role, and the
sections that do not serve the role (or that it may not open) are not shown."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from salesmgmt.navigation import SECTIONS, sections_for

NAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')

EVERYONE = {
    "My work",
    "Opportunities",
    "Accounts",
    "Products",
    "Coaching",
    "Reviews",
    "Forecast",
    "Compensation",
    "Unfiled",  # captured mail and meetings (capture app): everyone who is not an integration
}
LEADERS = {"Dashboard", "Territories", "Quotas"}
ADMINISTRATORS = {"Setup", "People", "Admin"}
PLANNERS = {"Plan"}  # sizing the sales force: the company's, not a team's
FEEDBACK = {"Feed back"}  # win/loss against the sales task: planners, and managers their team's
SHOWN = {
    "rep_a": EVERYONE,
    "manager_a": EVERYONE | LEADERS | FEEDBACK,
    "executive": EVERYONE | LEADERS | PLANNERS | FEEDBACK,
    "admin": EVERYONE | LEADERS | ADMINISTRATORS | PLANNERS | FEEDBACK,
}


def _nav_links(html: str) -> dict[str, str]:
    match = NAV.search(html)
    assert match, "no main navigation on the page"
    return {label.strip(): url for url, label in LINK.findall(match.group(1))}


@pytest.mark.parametrize("role", sorted(SHOWN))
def test_each_role_sees_its_sections_and_every_link_opens(client, personas, periods, role):
    client.force_login(personas[role])

    links = _nav_links(client.get(reverse("accounts:rep_home")).text)

    assert set(links) == SHOWN[role]
    for label, url in links.items():
        response = client.get(url)
        assert response.status_code == 200, f"{role}: {label} ({url}) → {response.status_code}"


@pytest.mark.parametrize("role", ["rep_a", "manager_a", "executive"])
def test_the_hidden_administration_sections_are_refused_to_the_role(client, personas, role):
    client.force_login(personas[role])

    for name in ("setup_checklist", "people_invitations"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("admin:index")).status_code == 302  # the admin's own log-in


def test_the_current_section_is_marked(client, rep_a):
    client.force_login(rep_a)

    html = client.get(reverse("accounts:opportunity_list")).text

    assert '<a href="/opportunities/" aria-current="page">Opportunities</a>' in NAV.search(html)[1]


def test_one_list_orders_the_header_for_everyone(personas):
    # Everyone's links keep the list's order: one list, no second copy per role.
    order = [section.label for section in SECTIONS]
    for person in personas.values():
        labels = [link.label for link in sections_for(person)]
        assert labels == [label for label in order if label in labels]


LEADER_PAGES = [
    ("coaching:team_dashboard", []),
    ("coaching:executive_rollup", []),
    ("territories:overview", []),
    ("territories:quota_plan", []),
]


@pytest.mark.parametrize("role", ["rep_a", "se_a", "manager_a", "executive", "admin"])
def test_a_section_hidden_from_a_role_is_closed_to_it_and_a_shown_one_opens(
    client, personas, periods, role
):
    # One rule each: the page's own access is the section's ``serves`` (page_for), so the
    # link's absence and the page's refusal cannot drift apart.
    person = personas[role]
    client.force_login(person)

    for section in SECTIONS:
        if section.url_name.startswith("admin:"):
            continue  # Django's admin: its own log-in (the test above)
        status = client.get(section.url_for(person)).status_code
        expected = 200 if section.serves(person) else 403
        assert status == expected, f"{role}: {section.label} → {status}"


@pytest.mark.parametrize(("name", "args"), LEADER_PAGES)
def test_leader_pages_check_the_rule_their_section_shows_by(name, args):
    from django.urls import resolve

    view = resolve(reverse(name, args=args)).func
    section = next(s for s in SECTIONS if s.url_name == name or name.split(":")[1] in s.current)
    assert view.serves is section.serves


def test_a_rep_opening_a_leaders_page_by_url_is_refused(client, rep_a, periods):
    client.force_login(rep_a)
    for name, args in [*LEADER_PAGES, ("coaching:rollup_node_children", [rep_a.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
