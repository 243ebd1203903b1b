"""The access sweep: every accounts endpoint and method, as every persona, against a record
inside and one outside the persona's visibility. Outside: 404 on reads and writes (400 "does
not exist" where the record is only referenced), never in a list, and nothing changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts.models import (
    Account,
    Activity,
    Contact,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
)
from tests.factories import MilestoneCompletionFactory, complete_closing_milestones

# Whose records each persona sees (the policy, as in tests/salesmgmt/test_visibility.py).
EXPECTED_OWNERS = {
    "rep_a": {"rep_a"},
    "se_a": {"se_a"},
    "rep_b": {"rep_b"},
    "manager_a": {"manager_a", "rep_a", "se_a"},
    "manager_b": {"rep_b"},
    "executive": {"rep_a", "se_a", "rep_b", "manager_a"},
    "admin": {"rep_a", "se_a", "rep_b", "manager_a"},
    "integrator": {"rep_a", "se_a", "rep_b", "manager_a"},
}


@dataclass(frozen=True)
class Op:
    """One call against the target owner's records; ``ok``/``refused`` are the statuses."""

    call: Callable
    ok: int
    refused: int = 404


def _first_milestone(records):
    return records["deal"].process.stages.order_by("order").first().milestones.order_by("order")[0]


def _second_milestone(records):
    return records["deal"].process.stages.order_by("order").first().milestones.order_by("order")[1]


def _deal_url(records, suffix=""):
    return f"/api/v1/opportunities/{records['deal'].pk}/{suffix}"


OPS = {
    # accounts
    "account retrieve": Op(lambda c, r, o: c.get(f"/api/v1/accounts/{r['account'].pk}/"), 200),
    "account patch": Op(
        lambda c, r, o: c.patch(f"/api/v1/accounts/{r['account'].pk}/", {"industry": "Retail"}),
        200,
    ),
    "account put": Op(
        lambda c, r, o: c.put(
            f"/api/v1/accounts/{r['account'].pk}/", {"name": "Renamed", "industry": "Retail"}
        ),
        200,
    ),
    "account delete": Op(
        lambda c, r, o: c.delete(f"/api/v1/accounts/{r['account'].pk}/"), 405, 405
    ),
    # contacts
    "contact retrieve": Op(lambda c, r, o: c.get(f"/api/v1/contacts/{r['contact'].pk}/"), 200),
    "contact patch": Op(
        lambda c, r, o: c.patch(f"/api/v1/contacts/{r['contact'].pk}/", {"title": "CFO"}), 200
    ),
    "contact put": Op(
        lambda c, r, o: c.put(
            f"/api/v1/contacts/{r['contact'].pk}/",
            {"account": r["account"].pk, "first_name": "Ann", "last_name": "Lee"},
        ),
        200,
    ),
    "contact create on the account": Op(
        lambda c, r, o: c.post(
            "/api/v1/contacts/",
            {"account": r["account"].pk, "first_name": "Ann", "last_name": "Lee"},
        ),
        201,
        400,
    ),
    # opportunities
    "opportunity retrieve": Op(lambda c, r, o: c.get(_deal_url(r)), 200),
    "opportunity patch": Op(lambda c, r, o: c.patch(_deal_url(r), {"next_step": "Call"}), 200),
    "opportunity put": Op(
        lambda c, r, o: c.put(
            _deal_url(r),
            {
                "name": "Renamed",
                "account": r["account"].pk,
                "amount": "5.00",
                "expected_close_on": "2031-01-31",
            },
        ),
        200,
    ),
    "opportunity delete": Op(lambda c, r, o: c.delete(_deal_url(r)), 405, 405),
    "opportunity create on the account": Op(
        lambda c, r, o: c.post(
            "/api/v1/opportunities/",
            {
                "name": "New",
                "account": r["account"].pk,
                "owner": o.pk,
                "amount": "1.00",
                "expected_close_on": "2031-01-31",
            },
        ),
        201,
        400,
    ),
    "opportunity complete": Op(
        lambda c, r, o: c.post(
            _deal_url(r, "complete/"), {"milestone": _second_milestone(r).pk, "evidence": "memo"}
        ),
        200,
    ),
    "opportunity undo": Op(
        lambda c, r, o: c.post(_deal_url(r, "undo/"), {"milestone": _first_milestone(r).pk}),
        200,
    ),
    "opportunity win": Op(lambda c, r, o: c.post(_deal_url(r, "win/"), {}), 200),
    "opportunity lose": Op(
        lambda c, r, o: c.post(_deal_url(r, "lose/"), {"lost_reason": "Price"}), 200
    ),
    # activities and the milestone audit trail
    "activity retrieve": Op(lambda c, r, o: c.get(f"/api/v1/activities/{r['activity'].pk}/"), 200),
    "activity create on the account": Op(
        lambda c, r, o: c.post("/api/v1/activities/", {"kind": "call", "account": r["account"].pk}),
        201,
        400,
    ),
    "activity create on the deal": Op(
        lambda c, r, o: c.post(
            "/api/v1/activities/", {"kind": "call", "opportunity": r["deal"].pk}
        ),
        201,
        400,
    ),
    "completion retrieve": Op(
        lambda c, r, o: c.get(f"/api/v1/milestone-completions/{r['completion'].pk}/"), 200
    ),
    # people
    "user retrieve": Op(lambda c, r, o: c.get(f"/api/v1/users/{o.pk}/"), 200),
}

LISTS = {
    "account": ("/api/v1/accounts/", "account"),
    "contact": ("/api/v1/contacts/", "contact"),
    "opportunity": ("/api/v1/opportunities/", "deal"),
    "activity": ("/api/v1/activities/", "activity"),
    "completion": ("/api/v1/milestone-completions/", "completion"),
}


def snapshot() -> tuple:
    """Every row that a refused write could have touched."""
    return (
        list(Account.objects.order_by("pk").values_list("pk", "name", "industry", "updated_at")),
        list(Contact.objects.order_by("pk").values_list("pk", "title", "account_id", "updated_at")),
        list(
            Opportunity.objects.order_by("pk").values_list("pk", "version", "status", "updated_at")
        ),
        Activity.objects.count(),
        MilestoneCompletion.objects.count(),
        OpportunityChange.objects.count(),
    )


@pytest.fixture
def sweep_world(world, personas):
    for name, records in world.items():
        records["completion"] = MilestoneCompletionFactory(
            opportunity=records["deal"],
            milestone=_first_milestone(records),
            completed_by=personas[name],
        )
        records["deal"].expected_close_on = dt.date(2031, 1, 1)
        records["deal"].save()
        # What closing won needs, so "win" is refused only where visibility says.
        complete_closing_milestones(records["deal"])
        records["closing"] = list(
            MilestoneCompletion.objects.filter(opportunity=records["deal"]).exclude(
                pk=records["completion"].pk
            )
        )
    return world


@pytest.mark.parametrize("owner", ["rep_a", "rep_b"])
@pytest.mark.parametrize("persona", sorted(EXPECTED_OWNERS))
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_endpoint_respects_visibility(
    sweep_world, personas, api_client_for, op_name, persona, owner
):
    op = OPS[op_name]
    client = api_client_for(personas[persona])
    inside = owner in EXPECTED_OWNERS[persona]
    before = snapshot()

    response = op.call(client, sweep_world[owner], personas[owner])

    assert response.status_code == (op.ok if inside else op.refused), response.content
    assert response["Content-Type"].startswith("application/json") or not response.content
    if not inside:
        assert snapshot() == before
        if op.refused == 400:
            fields = response.json()["fields"]
            assert any("does not exist" in str(m) for m in fields.values()), fields


@pytest.mark.parametrize("persona", sorted(EXPECTED_OWNERS))
@pytest.mark.parametrize("kind", sorted(LISTS))
def test_lists_show_exactly_the_visible_records(
    sweep_world, personas, api_client_for, persona, kind
):
    url, key = LISTS[kind]
    client = api_client_for(personas[persona])

    listed = {row["id"] for row in client.get(url, {"page_size": 500}).json()["results"]}
    exported = client.get(url, {"format": "csv"})

    expected = {sweep_world[o][key].pk for o in EXPECTED_OWNERS[persona] if o in sweep_world}
    if key == "completion":  # and the closing milestones each deal was given (sweep_world)
        owners = [o for o in EXPECTED_OWNERS[persona] if o in sweep_world]
        expected |= {row.pk for o in owners for row in sweep_world[o]["closing"]}
    assert listed == expected
    ids = {
        int(line.split(",")[0])
        for line in b"".join(exported.streaming_content).decode().splitlines()[1:]
    }
    assert ids == expected


@pytest.mark.parametrize("persona", sorted(EXPECTED_OWNERS))
def test_user_list_is_the_persona_subtree(sweep_world, personas, api_client_for, persona):
    from salesmgmt.visibility import visible_users

    client = api_client_for(personas[persona])
    listed = {
        row["id"] for row in client.get("/api/v1/users/", {"page_size": 500}).json()["results"]
    }
    assert listed == set(visible_users(personas[persona]).values_list("pk", flat=True))


WRITES = [name for name in OPS if not name.endswith(("retrieve", "delete"))]


@pytest.mark.parametrize("op_name", sorted(WRITES))
def test_read_only_token_cannot_write_even_its_own_records(
    sweep_world, personas, api_client_for, op_name
):
    client = api_client_for(personas["rep_a"], scope="read")
    before = snapshot()

    response = OPS[op_name].call(client, sweep_world["rep_a"], personas["rep_a"])

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert snapshot() == before
