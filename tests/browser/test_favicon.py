"""The pages link their icon (static/favicon.svg): it loads, and the browser never falls back
to probing /favicon.ico (which the app does not serve)."""

from __future__ import annotations

from django.urls import reverse

from tests.browser.conftest import BROWSER_TEST

pytestmark = BROWSER_TEST


def test_the_page_icon_loads_and_nothing_asks_for_favicon_ico(login, page, live_server, rep_a):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    login(rep_a)

    page.goto(reverse("accounts:rep_home"))

    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href.endswith("favicon.svg")
    answer = page.request.get(f"{live_server.url}{href}")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg")
    assert not [url for url in asked if url.endswith("/favicon.ico")]
