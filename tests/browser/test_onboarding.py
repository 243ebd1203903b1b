"""A manager in a real browser: from the coaching navigation to the onboarding page, then a
new hire's programme, where they certify a step with a debrief as evidence and see the
progress move; the programme pages open too."""

from __future__ import annotations

import pytest

from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.coaching.factories import (
    CallDebriefFactory,
    EnrolmentFactory,
    ProgrammeFactory,
    ProgrammeStepFactory,
)

pytestmark = BROWSER_TEST


@pytest.fixture
def enrolment(admin_user, rep_a, manager_a):
    programme = ProgrammeFactory(name="AE onboarding", created_by=admin_user, is_default=True)
    ProgrammeStepFactory(programme=programme, order=1, kind="module", title="Product tour")
    ProgrammeStepFactory(
        programme=programme, order=2, kind="certification", title="Runs a discovery call alone"
    )
    CallDebriefFactory(rep=rep_a, manager=manager_a, went_well="Ran discovery alone")
    return EnrolmentFactory(programme=programme, rep=rep_a)


def test_manager_certifies_a_step_with_a_debrief(as_user, manager_a, rep_a, enrolment):
    page = as_user(manager_a)
    page.goto(f"/coaching/reps/{rep_a.pk}/")
    page.get_by_role("link", name="Onboarding").first.click()
    page.get_by_role("heading", name="Onboarding", exact=True).wait_for()
    assert "0 / 2" in page.locator("table").first.inner_text()
    page.get_by_role("link", name=str(rep_a)).first.click()
    page.get_by_text("0 of 2 steps done").wait_for()

    step = page.locator("article[data-step]").filter(has_text="Runs a discovery call alone")
    step.get_by_label("Evidence: debrief").select_option(index=1)
    step.get_by_label("Evidence: note").fill("Led the whole call; good questions.")
    step.get_by_role("button", name="Certify").click()

    page.get_by_text("1 of 2 steps done").wait_for()
    steps = page.locator(".programme-steps").inner_text()
    assert "evidence: debrief" in steps
    assert "Led the whole call" in steps
    screenshot(page, "manager-onboarding-certified")

    page.goto("/coaching/onboarding/")
    assert "1 / 2" in page.locator("table").first.inner_text()
    page.get_by_role("link", name="Programmes").click()
    page.get_by_role("link", name="AE onboarding").click()
    page.get_by_role("heading", name="AE onboarding", exact=True).wait_for()
    assert "Runs a discovery call alone" in page.locator(".programme-steps").inner_text()
