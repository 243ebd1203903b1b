"""The guard every browser test's pages run under (conftest.guard): it refuses requests to
other hosts and reports them, and reports console errors, while the live server's own
requests go through untouched. (The app's Content Security Policy already blocks most
off-host loads inside a page; a navigation is not subject to it, so it shows the guard.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error

from tests.browser.conftest import BROWSER_TEST, guard

pytestmark = BROWSER_TEST


def test_a_request_off_the_host_is_refused_and_reported(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    try:
        problems = guard(context, live_server.url)
        tab = context.new_page()
        assert tab.goto("/login/").status == 200
        tab.evaluate("console.error('boom')")
        with pytest.raises(Error, match="ERR_FAILED"):
            tab.goto("https://cdn.example.com/lib.js")
    finally:
        context.close()
    assert problems[0] == f"console error on {live_server.url}/login/: boom"
    assert problems[1] == "request left the host: GET https://cdn.example.com/lib.js"
