"""The header's search box with the keyboard: type, ↓ to a suggestion, Enter opens it; Esc
closes the list; Enter with nothing chosen opens the /search/ page. No console errors and no
request leaves the host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.browser.conftest import BROWSER_TEST, screenshot
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def deals(process, rep_a, rep_b):
    mine = OpportunityFactory(
        owner=rep_a, name="Globex renewal", account=AccountFactory(owner=rep_a, name="Globex")
    )
    theirs = OpportunityFactory(
        owner=rep_b, name="Globex Asia", account=AccountFactory(owner=rep_b, name="Globex Asia")
    )
    return {"mine": mine, "theirs": theirs}


@pytest.fixture
def watched(page, live_server):
    """The page, recording console errors, failed responses and requests to another host.

    A failed load is recorded from its response, with its URL (the pages link their icon, so
    the browser asks for no /favicon.ico: a 404 there would be a finding too).
    """
    problems: list[str] = []
    host = urlsplit(live_server.url).netloc

    def console(message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def response(answer) -> None:
        if answer.status >= 400:
            problems.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda r: (
            problems.append(f"off-host {r.url}")
            if urlsplit(r.url).netloc not in ("", host) and not r.url.startswith("data:")
            else None
        ),
    )
    return problems


def test_search_box_keyboard_opens_a_suggestion(login, page, deals, rep_a, watched):
    login(rep_a)
    box = page.get_by_role("combobox", name="Search accounts, contacts, deals and activities")

    # Type: suggestions from the API, grouped by kind, only what rep_a may see
    box.click()
    box.press_sequentially("globex", delay=20)
    listbox = page.get_by_role("listbox", name="Suggestions")
    listbox.get_by_role("option", name="Globex renewal").wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert listbox.get_by_role("option", name="Globex Asia").count() == 0  # rep_b's
    titles = listbox.locator(".sitesearch__title").all_inner_texts()
    assert titles[:2] == ["Globex", "Globex renewal"]  # the account, then the deal

    # Esc closes the list; ↓ opens it again
    box.press("Escape")
    assert listbox.is_hidden()
    box.press("ArrowDown")
    listbox.wait_for(state="visible")

    # ↓ ↓: the second suggestion (the deal) is active; Enter opens it
    box.press("ArrowDown")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    assert "Globex renewal" in page.locator(f"#{active}").inner_text()
    screenshot(page, "search-suggestions")
    box.press("Enter")
    page.wait_for_url(f"**{reverse('accounts:opportunity_detail', args=[deals['mine'].pk])}")
    assert page.locator("h1").inner_text().startswith("Globex renewal")
    assert watched == []


def test_search_box_enter_without_a_choice_opens_the_results_page(
    login, page, deals, manager_a, rep_a, watched
):
    login(rep_a)
    box = page.get_by_role("combobox", name="Search accounts, contacts, deals and activities")

    box.fill("globex")
    box.press("Enter")

    page.wait_for_url("**/search/?q=globex")
    assert page.locator("h1").inner_text() == "Search"
    results = page.locator("#opportunity-results")
    assert results.get_by_role("link", name="Globex renewal").count() == 1
    assert page.get_by_role("link", name="Globex Asia").count() == 0
    # The header box keeps the query on the results page
    assert box.input_value() == "globex"
    # Phone-sized: the header box and the results fit 390 px without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert box.is_visible()
    screenshot(page, "search-results-390")
    assert watched == []
