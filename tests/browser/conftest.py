"""Browser tests: Playwright (sync API) driving Debian's Chromium against ``live_server``.

Skipped with a reason when /usr/bin/chromium is missing, unless SALESMGMT_REQUIRE_SERVICES=1
(CI), where a missing browser is a failure. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import pyotp
import pytest
from django.apps import apps

from salesmgmt import two_factor
from salesmgmt.models import TOTPDevice

# Sync Playwright runs an event loop in this thread; the ORM calls the tests make around it
# are still plain synchronous code, so Django's async-safety guard is switched off here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PASSWORD = "pw"  # tests.factories.UserFactory's password
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

builtins = importlib.import_module("coaching.migrations.0002_builtin_templates")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (installed by .ci/run); browser tests need it."
        if os.environ.get("SALESMGMT_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def builtin_templates(transactional_db):
    """The data migration's rows: a transactional test flushes them, so put them back."""
    builtins.add_builtins(apps, None)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def login(page):
    """Log in through the real login form; returns the page where the app lands.

    A person who needs a second factor (executives and admins in the test settings) gets an
    authenticator enrolled here and types its current code into the verify step.
    """

    def log_in(user):
        device = _authenticator(user) if two_factor.needs_second_step(user) else None
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if device is not None:
            page.fill("input[name=code]", pyotp.TOTP(device.secret).at(time.time()))
            page.click("button[type=submit]")
            page.wait_for_load_state()
        return page

    return log_in


def _authenticator(user) -> TOTPDevice:
    """The person's confirmed authenticator, enrolled now if needed (confirmed with the previous
    step's code, so the current step's code is still unused for the log-in)."""
    device = two_factor.confirmed_device(user)
    if device is None:
        device = two_factor.device_start_enrolment(user=user)
        two_factor.device_confirm(
            device=device, code=pyotp.TOTP(device.secret).at(time.time(), counter_offset=-1)
        )
    return device


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
