"""A manager puts a sales engineer on a rep's deal from the deal page, in a real browser."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import OpportunityTeamMember
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = BROWSER_TEST


def test_the_manager_adds_a_team_member_on_the_deal_page(
    login, page, process, rep_a, se_a, manager_a
):
    deal = OpportunityFactory(
        owner=rep_a, name="Globex renewal", account=AccountFactory(owner=rep_a, name="Globex")
    )
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    # Script errors; failed loads are the responses above, with their URLs.
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    login(manager_a)

    page.goto(reverse("accounts:opportunity_detail", args=[deal.pk]))
    team = page.locator("#team")
    team.locator("summary", has_text="Add a team member").click()
    team.locator("select[name=user]").select_option(str(se_a.pk))
    team.locator("input[name=team_role]").fill("SE overlay")
    team.locator("button", has_text="Add to team").click()
    page.wait_for_load_state()

    assert page.get_by_text(f"Added {se_a} to the deal's team.").count() == 1
    row = page.locator("#team tbody tr", has_text=str(se_a))
    assert row.locator("td").nth(1).inner_text() == "SE overlay"
    member = OpportunityTeamMember.objects.get(opportunity=deal)
    assert (member.user, member.team_role) == (se_a, "SE overlay")
    assert not missing, missing
    assert not errors, errors
    screenshot(page, "deal_team_added")
