"""A rep creates an account from the accounts list with its website, then corrects the mail
domain on the account page (captured mail is matched to accounts by it)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Account
from tests.browser.conftest import BROWSER_TEST, screenshot

pytestmark = BROWSER_TEST


def test_the_rep_creates_an_account_and_edits_its_mail_domain(as_user, rep_a):
    tab = as_user(rep_a)
    tab.goto(reverse("accounts:account_list"))
    tab.get_by_test_id("new-account").click()
    tab.wait_for_load_state()

    form = tab.get_by_test_id("account-form")
    form.get_by_label("Name").fill("Umbrella Corp")
    form.get_by_label("Mail domain").fill("https://www.Umbrella.example/about")
    screenshot(tab, "account_create")
    form.get_by_role("button", name="Create account").click()
    tab.wait_for_load_state()

    assert tab.get_by_test_id("account-domain").inner_text() == "umbrella.example"
    account = Account.objects.get(name="Umbrella Corp")
    assert account.owner == rep_a

    # (a value that is not a domain, refused on the field with a 400: test_account_pages)
    tab.get_by_text("Edit account").click()
    edit = tab.get_by_test_id("account-edit-form")
    edit.get_by_label("Mail domain").fill("umbrella-corp.example")
    edit.get_by_role("button", name="Save changes").click()
    tab.wait_for_load_state()
    assert tab.get_by_test_id("account-domain").inner_text() == "umbrella-corp.example"
    account.refresh_from_db()
    assert account.domain == "umbrella-corp.example"
