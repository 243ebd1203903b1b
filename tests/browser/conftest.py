"""Browser tests: Playwright (sync API) driving Debian's Chromium against ``live_server``.

Skipped with a reason when /usr/bin/chromium is missing, unless SALESMGMT_REQUIRE_SERVICES=1
(CI), where a missing browser is a failure. Screenshots go to test-artifacts/screenshots/.

Every page a test opens (``page``, ``new_page``, ``as_user``) is guarded: a request to any
host but the live server is aborted and reported, and console errors and uncaught page errors
are reported, as failures of the test at its teardown (``visit_all`` reports them per URL).
Each HTML page a browser test loads is recorded in ``VISITED`` (its URL pattern);
test_page_coverage.py compares that with the URLconf at the end of a full run.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pyotp
import pytest
from django.apps import apps
from django.db import transaction
from django.urls import Resolver404, resolve

from salesmgmt import two_factor
from salesmgmt.models import StaleMark, TOTPDevice

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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Sub-pixel rounding: what a page may overflow 390 px by and still count as fitting.
PHONE_TOLERANCE = 2

# The URL pattern (ResolverMatch.route) of every HTML page a browser test loaded (status 200,
# a top-level document) in this process, with the first URL seen for it.
VISITED: dict[str, str] = {}

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
def builtin_templates(request):
    """The data migration's rows: a transactional test flushes them, so put them back.
    Only for tests with a live server: the others (the URLconf checks) need no database."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        builtins.add_builtins(apps, None)


@contextlib.contextmanager
def quiet_refresh() -> Iterator[None]:
    """Seed test data in one transaction with the refresh tasks held back, and drop their
    stale marks after. In a transactional test every factory row commits on its own, and the
    eager tasks recompute the aggregates of every period on each commit (seconds a test);
    the pages under test read the rows the test makes, not those recomputations."""
    with mock.patch("salesmgmt.refresh.tasks.batch_send"), transaction.atomic():
        yield
    StaleMark.objects.all().delete()


def _record_visit(response) -> None:
    """A top-level HTML document that loaded: its URL pattern counts as visited."""
    request = response.request
    if request.resource_type != "document" or response.status != 200:
        return
    if response.frame.parent_frame is not None:
        return
    path = urlsplit(response.url).path
    try:
        match = resolve(path)
    except Resolver404:
        return
    VISITED.setdefault(match.route, path)


def guard(context, live_server_url: str) -> list[str]:
    """Abort any request that leaves the live server; record it, console errors and page
    errors in the list returned (the test's teardown fails on them)."""
    problems: list[str] = []

    def refuse(route) -> None:
        problems.append(f"request left the host: {route.request.method} {route.request.url}")
        route.abort()

    def on_page(tab) -> None:
        tab.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type} on {tab.url}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        tab.on("pageerror", lambda exc: problems.append(f"page error on {tab.url}: {exc}"))
        tab.on("response", _record_visit)

    # Matched inside the browser: the live server's own requests never stop in Python.
    context.route(re.compile(rf"^(?!{re.escape(live_server_url)}/)"), refuse)
    context.on("page", on_page)
    return problems


class Pages:
    """New guarded browser contexts for one test; each closed, and its problems checked,
    when the test ends."""

    def __init__(self, browser, live_server_url: str) -> None:
        self.browser = browser
        self.url = live_server_url
        self.contexts: list[tuple[object, list[str]]] = []

    def new(self, *, viewport: dict | None = None, storage_state: dict | None = None):
        context = self.browser.new_context(
            viewport=viewport or DESKTOP, base_url=self.url, storage_state=storage_state
        )
        problems = guard(context, self.url)
        self.contexts.append((context, problems))
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.problems = problems  # visit_all reports (and takes) them per URL
        return tab

    def close(self) -> list[str]:
        problems = []
        for context, found in self.contexts:
            problems.extend(found)
            context.close()
        return problems


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., object]]:
    """``new_page(viewport=..., storage_state=...)``: another guarded tab in its own context."""
    pages = Pages(browser, live_server.url)
    yield pages.new
    problems = pages.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def login(page):
    """Log in through the real login form; returns the page where the app lands.

    A person who needs a second factor (executives and admins in the test settings) gets an
    authenticator enrolled here and types its current code into the verify step.
    """

    def log_in(user):
        return log_in_on(page, user)

    return log_in


def log_in_on(page, user):
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


@pytest.fixture
def as_user(new_page) -> Callable[..., object]:
    """``as_user(user, viewport=...)``: a new tab signed in as ``user``. The first call for a
    person logs in through the form and keeps the context's storage state (its session
    cookie); later calls start their context from it instead of logging in again."""
    states: dict[int, dict] = {}

    def open_as(user, *, viewport: dict | None = None):
        state = states.get(user.pk)
        tab = new_page(viewport=viewport, storage_state=state)
        if state is None:
            log_in_on(tab, user)
            states[user.pk] = tab.context.storage_state()
        return tab

    return open_as


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


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


# The elements where a page starts to overflow the viewport: wider than it, inside a parent
# that is not and does not scroll or clip them (named tag#id.class), for the failure message.
_OVERFLOWING = """(limit) => {
  const classes = (el) => typeof el.className === 'string' && el.className.trim()
    ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes(el);
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const right = el.getBoundingClientRect().right;
    const parent = el.parentElement;
    if (right > limit && parent && parent.getBoundingClientRect().right <= limit &&
        getComputedStyle(parent).overflowX === 'visible') {
      found.push(name(parent) + ' > ' + name(el) + ' (' + Math.round(right) + ' px)');
    }
  }
  return found.slice(0, 5);
}"""


def overflowing(page) -> list[str]:
    return page.evaluate(_OVERFLOWING, PHONE["width"] + PHONE_TOLERANCE)


# SALESMGMT_SWEEP_SCREENSHOTS=1: a screenshot of every page visit_all opens (to look at layouts).
SWEEP_SCREENSHOTS = os.environ.get("SALESMGMT_SWEEP_SCREENSHOTS") == "1"


def _shot_name(url: str, phone: bool) -> str:
    slug = url.strip("/").replace("/", "_") or "root"
    return f"sweep_{slug}_{'phone' if phone else 'desktop'}"[:120]


def visit_all(page, visits: list[tuple[str, Callable[[object], None] | None]], *, phone=False):
    """Open each URL on ``page``; check it answers 200 with a main heading (``h1``), runs its
    check (a callable taking the page, or None), has no console errors and, with ``phone``,
    fits a 390 px viewport. Every failing URL is reported at once at the end."""
    failures: list[str] = []
    for url, check in visits:
        try:
            response = page.goto(url)
            status = response.status if response is not None else None
            assert status == 200, f"status {status}"
            heading = page.locator("h1").first
            assert heading.count() == 1, "no main heading (h1)"
            assert heading.inner_text().strip(), "an empty main heading (h1)"
            if check is not None:
                check(page)
            if SWEEP_SCREENSHOTS:
                screenshot(page, _shot_name(url, phone))
            if phone:
                width = page_width(page)
                assert width <= PHONE["width"] + PHONE_TOLERANCE, (
                    f"{width} px wide at 390 px: {', '.join(overflowing(page))}"
                )
        except Exception as exc:  # every URL's failure is reported together, at the end
            failures.append(f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        problems = getattr(page, "problems", [])
        failures.extend(f"{url}: {problem}" for problem in problems)
        problems.clear()
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)


# Every browser test module: ``pytestmark = BROWSER_TEST``.
BROWSER_TEST = pytest.mark.browser
BROWSER_DIR = Path(__file__).resolve().parent
COVERAGE_TEST = "test_every_page_was_visited_by_a_browser_test"
# Why the page-coverage test cannot judge this run (a part of the browser tests), or absent.
PARTIAL_RUN = pytest.StashKey[str]()


def _partial_run(config) -> str:
    """Why this run is not the whole browser directory in one process ('' when it is).

    Under xdist one worker runs every browser test, the coverage test last
    (``pytest_xdist_make_scheduler`` in tests/conftest.py), and judges the whole directory.
    """
    together = getattr(config, "workerinput", {}).get("browser_tests_together", False)
    if os.environ.get("PYTEST_XDIST_WORKER") and not together:
        return "under this xdist scheduler the browser tests are split between workers"
    if config.getoption("keyword", "") or config.getoption("markexpr", ""):
        return "-k or -m selects only some browser tests"
    if config.getoption("ignore", None) or config.getoption("ignore_glob", None):
        return "--ignore leaves some test files out"
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if "::" in arg or not (path == BROWSER_DIR or path in BROWSER_DIR.parents):
            return f"{arg} is not the whole browser directory"
    return ""


def pytest_collection_modifyitems(config, items):
    """The page-coverage test runs last, and only knows it may judge a full run."""
    last = [item for item in items if item.name == COVERAGE_TEST]
    if not last:
        return
    items[:] = [item for item in items if item.name != COVERAGE_TEST] + last
    reason = _partial_run(config)
    if reason:
        config.stash[PARTIAL_RUN] = f"not a full browser run: {reason}"


def pytest_deselected(items):
    if items and any(BROWSER_DIR in Path(str(item.path)).parents for item in items):
        items[0].config.stash[PARTIAL_RUN] = "not a full browser run: some tests were deselected"
