"""Issue 18's browser test: a rep completes an evidence milestone in a process that requires
verification; the manager's bell shows 1, the notification opens the deal, the manager
verifies, and the rep's bell shows the outcome. Also the preferences and unsubscribe pages."""

from __future__ import annotations

import re

from django.urls import reverse

from accounts.models import MilestoneCompletion
from notifications.kinds import Kind
from notifications.mail import unsubscribe_token
from notifications.models import Notification, NotificationPreference
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import (
    AccountFactory,
    MilestoneCompletionFactory,
    OpportunityFactory,
    build_process,
)

pytestmark = BROWSER_TEST


def bell_count(tab) -> str:
    counts = tab.get_by_test_id("bell-count")
    return counts.inner_text() if counts.count() else "0"


def test_verification_round_trip_through_the_bell(as_user, rep_a, manager_a, rep_b):
    process = build_process(name="Verified", requires_verification=True)
    deal = OpportunityFactory(
        owner=rep_a,
        process=process,
        name="Globex renewal",
        account=AccountFactory(owner=rep_a, name="Globex"),
    )
    first, evidence = process.stages.order_by("order").first().milestones.order_by("order")
    # the first milestone is done and verified already: the next one needs evidence
    MilestoneCompletionFactory(
        opportunity=deal,
        milestone=first,
        verification_state=MilestoneCompletion.Verification.VERIFIED,
        verified_by=manager_a,
    )

    # the rep completes the evidence milestone from their home page
    rep = as_user(rep_a)
    rep.goto(reverse("accounts:rep_home"))
    row = rep.locator("tr", has_text="Globex renewal")
    row.locator("summary", has_text="Complete").click()
    row.locator("textarea[name=evidence]").fill("Signed mutual plan: https://wiki/globex")
    row.locator("button", has_text="Mark complete").click()
    rep.wait_for_load_state()
    assert bell_count(rep) == "0"

    # the manager's bell shows 1; the notification opens the deal
    manager = as_user(manager_a)
    manager.goto(reverse("coaching:team_dashboard"))
    assert bell_count(manager) == "1"
    manager.get_by_test_id("bell").click()
    manager.wait_for_load_state()
    assert manager.url.endswith(reverse("notifications:inbox"))
    screenshot(manager, "notifications_inbox")
    manager.get_by_test_id("open-notification").first.click()
    manager.wait_for_load_state()
    assert manager.url.endswith(reverse("accounts:opportunity_detail", args=[deal.pk]))
    assert bell_count(manager) == "0"

    # the manager verifies; the rep's bell shows the outcome
    manager.locator("button", has_text="Verify").first.click()
    manager.wait_for_load_state()
    assert MilestoneCompletion.objects.get(milestone=evidence).verification_state == "verified"
    rep.goto(reverse("accounts:rep_home"))
    assert bell_count(rep) == "1"
    rep.get_by_test_id("bell").click()
    rep.wait_for_load_state()
    assert rep.get_by_text(re.compile(r"was verified")).count() == 1
    # and another team's rep was told nothing
    assert not Notification.objects.filter(recipient=rep_b).exists()


def test_preferences_and_unsubscribe_pages(as_user, new_page, rep_a):
    tab = as_user(rep_a)
    tab.goto(reverse("notifications:preferences"))
    tab.select_option(f"select[name=kind_{Kind.CALL_DUE}]", "off")
    tab.locator("button", has_text="Save").click()
    tab.wait_for_load_state()
    assert NotificationPreference.objects.get(person=rep_a, kind=Kind.CALL_DUE).channel == "off"
    screenshot(tab, "notification_preferences")

    # the signed link works without a session
    anonymous = new_page()
    token = unsubscribe_token(person_id=rep_a.pk, kind=Kind.STATEMENT_READY)
    anonymous.goto(reverse("notifications:unsubscribe", args=[token]))
    anonymous.locator("button", has_text="Unsubscribe").click()
    anonymous.wait_for_load_state()
    assert anonymous.locator("h1").inner_text() == "Unsubscribed"
    assert NotificationPreference.objects.get(person=rep_a, kind=Kind.STATEMENT_READY).channel == (
        "in_app"
    )
