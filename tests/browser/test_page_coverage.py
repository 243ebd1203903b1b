"""Issue 17's "done when": every URL pattern that renders an HTML page was loaded by a browser
test. conftest.py records each page the browser tests load (``VISITED``, the URL pattern);
this test runs last and compares it with the URLconf, naming every page no test visited.

It runs only after the whole browser directory ran in one process (``pytest tests/browser``
or the whole suite, without -k, -m or node ids; under xdist one worker runs every browser
test, tests/conftest.py): otherwise the visits are a part and it skips, saying why (see
``pytest_collection_modifyitems`` in conftest.py).

A new page needs a browser test that loads it (any test here using ``page``, ``new_page`` or
``as_user`` counts); a new URL that is not a page goes in EXCLUDED with the reason.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from salesmgmt.models import ImportKind
from tests.browser import conftest

pytestmark = conftest.BROWSER_TEST

# Whole parts of the site that are not product pages.
EXCLUDED_PREFIXES = {
    "api/": "the JSON API (tested by tests/*/api/ and the schema tests)",
    "admin/": "the Django admin (not a product page; staff only)",
}

_POST = "a POST-only action: it redirects (or swaps an HTMX partial) to a page tested here"
_FILE = "a file download (CSV), not an HTML page"
EXCLUDED = {
    "home": "redirects to the person's landing page only",
    "logout": "POST-only: logs out and redirects to the login page",
    "healthz": "a JSON health check for the load balancer, not a page",
    "coaching:rollup_node_children": "an HTMX fragment of the executive rollup (loaded by "
    "test_flows' expand/collapse test), not a page",
    **dict.fromkeys(
        [
            "api_token_revoke",
            "person_invite",
            "people_invite_pending",
            "setup_periods",
            "setup_company_periods",
            "planning:scenario_create",
            "planning:scenario_delete",
            "planning:planned_hire_create",
            "planning:segment_create",
            "planning:coverage_set",
            "planning:planned_hire_delete",
            "planning:segment_delete",
            "accounts:opportunity_edit",
            "accounts:account_edit",
            "accounts:opportunity_close_won",
            "accounts:opportunity_close_lost",
            "accounts:milestone_complete",
            "accounts:milestone_undo",
            "accounts:completion_verify",
            "accounts:completion_reject",
            "accounts:activity_log",
            "accounts:product_archive",
            "accounts:line_item_add",
            "accounts:line_item_edit",
            "accounts:line_item_remove",
            "accounts:team_member_add",
            "accounts:team_member_edit",
            "accounts:team_member_remove",
            "accounts:stage_add",
            "accounts:stage_edit",
            "accounts:stage_move",
            "accounts:stage_delete",
            "accounts:milestone_add",
            "accounts:milestone_edit",
            "accounts:milestone_move",
            "accounts:milestone_delete",
            "territories:rebalance_apply",
            "territories:planning_recompute",
            "territories:assignment_apply",
            "forecasting:call_submit",
            "forecasting:call_adjust",
            "compensation:statement_approve",
            "compensation:statement_adjust",
            "compensation:line_dispute",
            "compensation:run_compute",
            "compensation:run_process",
            "compensation:dispute_resolve",
            "compensation:deal_credit_splits",
            "compensation:deal_cancel",
            "coaching:skill_rate",
            "coaching:review_create",
            "coaching:review_notes",
            "coaching:action_item_add",
            "coaching:score_save",
            "coaching:competitor_add",
            "coaching:proof_add",
            "coaching:negotiation_add",
            "coaching:score_validate",
            "coaching:action_item_done",
            "coaching:goal_add",
            "coaching:plan_evaluate",
            "coaching:plan_action_add",
            "coaching:plan_action_done",
            "coaching:request_create",
            "coaching:request_decide",
            "coaching:plan_link_programme",
            "coaching:programme_edit",
            "coaching:programme_step_add",
            "coaching:programme_step_remove",
            "coaching:programme_enrol",
            "coaching:enrolment_step_complete",
            "notifications:open",
            "notifications:mark_all_read",
            "capture:item_file",
            "capture:item_delete",
            "capture:calendar_subscribe",
            "capture:calendar_unsubscribe",
            "capture:calendar_upload",
        ],
        _POST,
    ),
    **dict.fromkeys(
        [f"import_template_{kind}" for kind in ImportKind.values]
        + ["compensation:payroll_download"],
        _FILE,
    ),
}


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, view name) of every pattern of the URLconf, the route as ResolverMatch.route
    spells it (the patterns' strings joined)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield route, f"{namespace}{pattern.name}" if pattern.name else route


def pages() -> dict[str, str]:
    """The patterns that render an HTML page: route → view name."""
    return {
        route: name
        for route, name in url_patterns()
        if not route.startswith(tuple(EXCLUDED_PREFIXES)) and name not in EXCLUDED
    }


def test_the_exclusions_name_real_patterns():
    names = {name for _, name in url_patterns()}
    assert not set(EXCLUDED) - names, "EXCLUDED names a pattern the URLconf no longer has"


def test_every_page_was_visited_by_a_browser_test(request, browser):
    """(``browser``: without Chromium every browser test skipped, and so does this one.)"""
    reason = request.config.stash.get(conftest.PARTIAL_RUN, None)
    if reason:
        pytest.skip(reason)
    missing = sorted(
        f"{name} (/{route})" for route, name in pages().items() if route not in conftest.VISITED
    )
    assert not missing, (
        f"{len(missing)} page(s) no browser test visited (add a test that loads each, or an "
        "exclusion with its reason in test_page_coverage.py):\n" + "\n".join(missing)
    )
