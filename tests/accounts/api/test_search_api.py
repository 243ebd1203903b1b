"""``GET /api/v1/search/``: the global search as JSON, per role, with its 400s and its budget."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

from tests.accounts.conftest import open_deal
from tests.factories import AccountFactory, ActivityFactory, ContactFactory

URL = "/api/v1/search/"


@pytest.fixture
def world(process, rep_a, se_a, rep_b):
    """Per seller an account, a contact, a deal and a call, each with "Zephyr" in it."""
    for person, name in ((rep_a, "Alpha"), (se_a, "Sierra"), (rep_b, "Bravo")):
        account = AccountFactory(owner=person, name=f"Zephyr {name}")
        ContactFactory(account=account, first_name=name, last_name="Zephyrson")
        deal = open_deal(person, account, f"{name} rollout")
        ActivityFactory(owner=person, account=account, opportunity=deal, notes=f"Zephyr {name}")


def _titles(response) -> set[str]:
    return {hit["title"] for hit in response.json()["results"] if hit["kind"] == "account"}


@pytest.mark.parametrize(
    ("viewer", "accounts"),
    [
        ("rep_a", {"Zephyr Alpha"}),
        ("rep_b", {"Zephyr Bravo"}),
        ("manager_a", {"Zephyr Alpha", "Zephyr Sierra"}),
        ("manager_b", {"Zephyr Bravo"}),
        ("executive", {"Zephyr Alpha", "Zephyr Sierra", "Zephyr Bravo"}),
        ("integrator", {"Zephyr Alpha", "Zephyr Sierra", "Zephyr Bravo"}),
    ],
)
def test_search_api_answers_within_visibility(world, personas, api_client_for, viewer, accounts):
    response = api_client_for(personas[viewer]).get(URL, {"q": "zephyr"})

    assert response.status_code == 200
    assert _titles(response) == accounts
    kinds = {hit["kind"] for hit in response.json()["results"]}
    assert kinds == {"account", "contact", "opportunity", "activity"}


def test_search_api_hit_shape(world, rep_a, api_client_for):
    body = api_client_for(rep_a).get(URL, {"q": "zephyr alpha", "kind": "account"}).json()

    assert body["query"] == "zephyr alpha"
    assert body["next"] is None
    assert body["previous"] is None
    assert body["kinds"] == {"account": False}
    (hit,) = body["results"]
    assert hit["kind"] == "account"
    assert hit["title"] == "Zephyr Alpha"
    assert hit["match"] == 0
    assert hit["url"] == f"/accounts/{hit['id']}/"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "a"}, "q"),
        ({"q": "   a  "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "acme", "kind": "invoice"}, "kind"),
        ({"q": "acme", "page": "0"}, "page"),
        ({"q": "acme", "page_size": "51"}, "page_size"),
    ],
)
def test_search_api_refuses_bad_input_with_a_field_message(rep_a, api_client_for, params, field):
    response = api_client_for(rep_a).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_search_api_short_query_message(rep_a, api_client_for):
    body = api_client_for(rep_a).get(URL, {"q": "a"}).json()

    assert body["fields"]["q"] == ["Ensure this field has at least 2 characters."]


def test_search_api_pages(process, rep_a, api_client_for):
    for i in range(7):
        AccountFactory(owner=rep_a, name=f"Quasar {i}")
    client = api_client_for(rep_a)

    first = client.get(URL, {"q": "quasar", "kind": "account", "page_size": 5}).json()
    second = client.get(first["next"]).json()

    assert len(first["results"]) == 5
    assert first["kinds"] == {"account": True}
    assert len(second["results"]) == 2
    assert second["next"] is None
    assert second["previous"] is not None
    ids = {hit["id"] for hit in first["results"] + second["results"]}
    assert len(ids) == 7


def test_search_api_needs_authentication(client):
    assert client.get(URL, {"q": "acme"}).status_code == 401


def test_search_api_session_for_the_header_box(client, world, rep_a):
    # The header box's suggestions use the page's session, as the browser sends it.
    client.force_login(rep_a)

    response = client.get(URL, {"q": "zephyr", "page_size": 5})

    assert response.status_code == 200
    assert _titles(response) == {"Zephyr Alpha"}


@pytest.mark.parametrize("viewer", ["rep_a", "manager_a", "executive"])
def test_search_api_query_count_does_not_grow_with_matches(
    process, personas, api_client_for, django_assert_max_num_queries, viewer
):
    # As each role through a token, after a warm-up call (which stamps the token's last use):
    #   1 the token with its user, 2 (a manager only) their visible people, then one query a
    #   kind: 3 accounts, 4 contacts, 5 deals, 6 activities. The same at 2 and 20 rows a kind.
    rep_a = personas["rep_a"]
    client = api_client_for(personas[viewer])
    budget = 6 if viewer == "manager_a" else 5
    for rows in (2, 20):
        for i in range(rows):
            account = AccountFactory(owner=rep_a, name=f"Vega {rows}-{i}")
            ContactFactory(account=account, first_name="Vega")
            deal = open_deal(rep_a, account, f"Vega deal {rows}-{i}")
            ActivityFactory(owner=rep_a, account=account, opportunity=deal, notes="vega call")
        client.get(URL, {"q": "vega"})
        with django_assert_max_num_queries(budget):
            response = client.get(URL, {"q": "vega"})
        assert response.status_code == 200
        assert len(response.json()["results"]) == 4 * min(rows, 5)


def test_search_api_is_in_the_schema(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    operation = yaml.safe_load(out.read_text())["paths"]["/api/v1/search/"]["get"]

    params = {p["name"]: p for p in operation["parameters"]}
    assert params["q"]["required"] is True
    assert {"kind", "page", "page_size"} <= set(params)
    assert "400" in operation["responses"]
