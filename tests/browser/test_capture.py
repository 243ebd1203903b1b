"""A rep files an unfiled captured email on a deal in one click; the deal shows its source."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Activity
from capture import services
from capture.models import CapturedItem
from capture.parsing import parse_mail
from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.capture.scenario import customer_of, unknown_mail

pytestmark = BROWSER_TEST


def test_the_rep_files_an_unfiled_email_in_one_click(as_user, process, rep_a):
    customer = customer_of(rep_a)
    item = services.captured_mail_record(owner=rep_a, mail=parse_mail(unknown_mail(rep_a)))
    tab = as_user(rep_a)

    tab.goto(reverse("capture:unfiled"))
    row = tab.locator(f"#item-{item.pk}")
    assert "Intro call" in row.inner_text()
    screenshot(tab, "capture_unfiled")
    # the first choice is the deal most recently worked: one click files it there
    row.get_by_test_id(f"file-{item.pk}").click()
    tab.wait_for_load_state()

    assert tab.get_by_text("Filed “Intro call”").count() == 1
    item.refresh_from_db()
    assert item.status == CapturedItem.Status.FILED
    activity = Activity.objects.get(captured_item=item)
    assert activity.source == Activity.Source.EMAIL
    assert activity.opportunity in (customer.older_deal, customer.tagged_deal)

    tab.goto(reverse("accounts:opportunity_detail", args=[activity.opportunity_id]))
    assert tab.get_by_test_id("activity-source").first.inner_text() == "Captured email"


def test_the_rep_pauses_capture_on_the_settings_page(as_user, rep_a):
    tab = as_user(rep_a)
    tab.goto(reverse("capture:settings"))
    address = services.capture_settings_ensure(user=rep_a).address
    assert tab.get_by_test_id("capture-address").inner_text() == address
    tab.get_by_label("Pause capture").check()
    tab.locator("#privacy button", has_text="Save").click()
    tab.wait_for_load_state()
    assert tab.get_by_test_id("capture-paused").count() == 1
    screenshot(tab, "capture_settings")
