"""Property-based API testing with Schemathesis against /api/schema/ on a loopback server.

As each role (and a read-only token) every documented operation is called with generated
valid and invalid input. Asserted for every response: no 5xx, the status code, content type,
headers and body conform to the schema, no record outside the role's visibility appears, and
no record outside it changes. Bounded for CI (about 400 calls per role); `make fuzz` runs

    SCHEMATHESIS_MAX_EXAMPLES=20 .venv/bin/pytest tests/salesmgmt/api/test_schemathesis.py

(thousands per role). SCHEMATHESIS_ROLES=rep_a,admin limits the roles.
"""

from __future__ import annotations

import copy
import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import selectors as account_selectors
from accounts.models import Account, Activity, Contact, Opportunity
from salesmgmt import selectors, services
from salesmgmt.models import ApiToken
from salesmgmt.visibility import visible_users
from tests.factories import MilestoneCompletionFactory

# Examples per operation and generation mode (valid, invalid input); each role replays them.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "2"))
ROLES = [
    ("rep_a", ApiToken.Scope.READ_WRITE),
    ("manager_a", ApiToken.Scope.READ_WRITE),
    ("executive", ApiToken.Scope.READ_WRITE),
    ("admin", ApiToken.Scope.READ_WRITE),
    ("integrator", ApiToken.Scope.READ_WRITE),
    ("rep_b", ApiToken.Scope.READ),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RESOURCE = re.compile(r"^/api/v1/([a-z-]+)/")
NOT_JOBS = ("/api/v1/imports/mappings/", "/api/v1/imports/suggest/")


def _visible_ids(resource: str, user) -> set[int] | None:
    """Ids the user may see of a resource (None: not a visibility-scoped resource)."""
    querysets = {
        "accounts": lambda: Account.objects.visible_to(user),
        "contacts": lambda: Contact.objects.visible_to(user),
        "opportunities": lambda: Opportunity.objects.visible_to(user),
        "activities": lambda: Activity.objects.visible_to(user),
        "milestone-completions": lambda: account_selectors.milestone_completion_list(viewer=user),
        "users": lambda: visible_users(user),
        "tokens": lambda: selectors.api_token_list(user=user),
        "webhooks": lambda: selectors.webhook_subscription_list(viewer=user),
        "webhook-deliveries": lambda: selectors.webhook_delivery_list(viewer=user),
        "imports": lambda: selectors.import_job_list(viewer=user),
    }
    if resource not in querysets:
        return None
    return set(querysets[resource]().values_list("pk", flat=True))


def _returned_ids(response) -> set[int]:
    if not response.headers.get("content-type", [""])[0].startswith("application/json"):
        return set()
    body = response.json()
    rows = body.get("results", [body]) if isinstance(body, dict) else []
    return {row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)}


def _outside(user) -> tuple:
    """Every business record the user may not see, as it stands (to prove none changed)."""
    return tuple(
        sorted(
            model.objects.exclude(pk__in=model.objects.visible_to(user).values("pk")).values_list(
                "pk", "updated_at"
            )
        )
        for model in (Account, Contact, Opportunity, Activity)
    )


def _generate(operation, mode) -> list:
    """Draw the examples of one operation once; every role then replays the same cases
    (generating input is most of Schemathesis's cost)."""
    cases = []

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def collect(case):
        cases.append(case)

    collect()
    return cases


def _check(case, user, headers: dict, base_url: str) -> None:
    """One call as one role: schema conformance, no 5xx, no record outside visibility."""
    response = case.call(base_url=base_url, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS)
    match = RESOURCE.match(case.formatted_path)
    # A saved import mapping is company-wide and not an import job (its ids are its own).
    if match and not case.formatted_path.startswith(NOT_JOBS) and 200 <= response.status_code < 300:
        visible = _visible_ids(match.group(1), user)
        leaked = _returned_ids(response) - visible if visible is not None else set()
        assert not leaked, f"{case.method} {case.formatted_path} leaked {leaked}"


@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema_as_every_role(live_server, world, personas, settings):
    for records in world.values():
        MilestoneCompletionFactory(
            opportunity=records["deal"], milestone=records["deal"].stage.milestones.first()
        )
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"token": "100000/min", "anon": "100000/min"}
    settings.REST_FRAMEWORK = rest
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    cases = [
        (operation.label, case)
        for operation in (result.ok() for result in schema.get_all_operations())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for case in _generate(operation, mode)
    ]
    failures: dict[tuple[str, str], str] = {}
    roles = [r for r in ROLES if r[0] in os.environ.get("SCHEMATHESIS_ROLES", r[0])]

    for role, scope in roles:
        user = personas[role]
        _, key = services.api_token_create(user=user, name="fuzz", scope=scope)
        headers = {"Authorization": f"Token {key}"}
        outside_before = _outside(user)
        for label, case in cases:
            try:
                _check(case, user, headers, live_server.url)
            except (Exception, BaseExceptionGroup) as exc:  # collect all, one per operation
                failures.setdefault((role, label), f"[{role}] {label}: {exc}"[:2000])
        if _outside(user) != outside_before:
            failures[(role, "*")] = f"[{role}] changed records outside its visibility"

    assert not failures, "\n\n".join(failures.values())
    assert len(cases) >= 2 * len(list(schema.get_all_operations()))
