"""Bad bodies on every write operation of the API (issue 14, L1): deep JSON, lone surrogates and
NUL characters get a 4xx (400 naming the field once the body is read), never a 500, and write
nothing. The operations come from the OpenAPI schema, not a hand list."""

from __future__ import annotations

import json
from functools import cache

import pytest
from django.apps import apps
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

WRITE_METHODS = ("post", "put", "patch")
DEEP_JSON = "[" * 50_000 + "]" * 50_000
SURROGATE = "\ud800"


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def write_operations() -> list[tuple[str, str, dict[str, dict]]]:
    """(method, path template, {property: schema}) of every write operation in the schema."""
    schema = _schema()
    components = schema["components"]["schemas"]
    operations = []
    for path, item in schema["paths"].items():
        for method in WRITE_METHODS:
            if method not in item:
                continue
            content = item[method].get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[-1]]
            operations.append((method, path, body.get("properties", {})))
    return operations


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "territories", "forecasting", "coaching"}
        or model._meta.label in {"compensation.Dispute", "salesmgmt.WebhookSubscription"}
    }


def _url(path: str) -> str:
    """The path with ``{id}`` set to an existing record of the viewset's model, if any (and a
    nested resource's ``{deal_id}`` to an existing deal)."""
    if "{deal_id}" in path:
        from accounts.models import Opportunity

        deal = Opportunity.objects.order_by("pk").first()
        path = path.replace("{deal_id}", str(deal.pk if deal else 1))
    if "{id}" not in path:
        return path
    view = resolve(path.replace("{id}", "1")).func
    queryset = getattr(getattr(view, "cls", None), "queryset", None)
    first = queryset.model._default_manager.order_by("pk").first() if queryset else None
    return path.replace("{id}", str(first.pk if first else 1))


@pytest.fixture
def admin_client(world, personas, api_client_for):
    return api_client_for(personas["admin"])


def test_the_schema_lists_the_write_operations_the_probe_found():
    operations = write_operations()

    assert len(operations) >= 26  # the probe's count of JSON write endpoints
    assert ("post", "/api/v1/forecast-calls/") in {(m, p) for m, p, _ in operations}


@pytest.mark.django_db
def test_json_nested_50000_levels_is_a_400_on_every_write_operation(admin_client):
    before = _row_counts()
    unexpected = {}
    uploads_only = {
        path
        for path, item in _schema()["paths"].items()
        if "post" in item
        and set(item["post"].get("requestBody", {}).get("content", {})) == {"multipart/form-data"}
    }
    for method, path, _ in write_operations():
        url = _url(path)
        response = getattr(admin_client, method)(url, DEEP_JSON, content_type="application/json")
        # a record that does not exist (in this small world) is a 404 before the body is read
        allowed = {400, 404} if "{" in path else {400}
        if path in uploads_only:
            allowed.add(415)  # a file upload refuses a JSON body unread
        if response.status_code not in allowed:
            unexpected[f"{method} {url}"] = response.status_code

    assert not unexpected
    assert _row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [SURROGATE, "a\x00b"], ids=["lone surrogate", "NUL"])
def test_bad_text_in_any_field_is_a_400_naming_the_field(admin_client, bad):
    before = _row_counts()
    failures = []
    checked = 0
    for method, path, properties in write_operations():
        url = _url(path)
        for name in sorted(properties) or ["any"]:
            body = json.dumps({name: bad})  # "\ud800" travels as JSON's \ud800 escape
            response = getattr(admin_client, method)(url, body, content_type="application/json")
            if not 400 <= response.status_code < 500:
                failures.append((method, url, name, response.status_code))
            elif response.status_code == 400:
                checked += 1
                if name not in response.json().get("fields", {}):
                    failures.append((method, url, name, response.content[:200]))

    assert not failures
    assert checked >= 100  # choice, id, date, number and text fields alike
    assert _row_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["99999999999999.99", "100000000000", "1e30"])
def test_an_amount_outside_the_money_range_is_a_400_on_every_decimal_field(admin_client, amount):
    before = _row_counts()
    failures = []
    checked = 0
    for method, path, properties in write_operations():
        url = _url(path)
        for name, spec in sorted(properties.items()):
            if spec.get("format") != "decimal":
                continue
            body = json.dumps({name: amount})
            response = getattr(admin_client, method)(url, body, content_type="application/json")
            if response.status_code == 400:
                checked += 1
                if name not in response.json()["fields"]:
                    failures.append((method, url, name, response.content[:200]))
            elif response.status_code != 404 or "{id}" not in path:
                failures.append((method, url, name, response.status_code))

    assert not failures
    assert checked >= 15  # money and ratio fields of calls, quotas, rules, accounts, deals
    assert _row_counts() == before


@pytest.mark.django_db
def test_bad_text_in_a_nested_field_names_its_path(admin_client, personas):
    body = json.dumps({"period": 1, "deals": [{"name": f"x{SURROGATE}", "amount": "1"}]})

    response = admin_client.post(
        "/api/v1/compensation/what-if/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert "deals.0.name" in response.json()["fields"]


@pytest.mark.django_db
def test_a_json_body_over_the_limit_is_a_413(admin_client, settings):
    settings.API_MAX_JSON_BYTES = 1000
    body = json.dumps({"name": "x" * 2000})

    response = admin_client.post("/api/v1/accounts/", body, content_type="application/json")

    assert response.status_code == 413


@pytest.mark.django_db
def test_a_multipart_patch_is_checked_by_the_api_parser(api_client_for, rep_a, world):
    account = world["rep_a"]["account"]
    body = encode_multipart(BOUNDARY, {"name": "bad\x00name"})

    response = api_client_for(rep_a).patch(
        f"/api/v1/accounts/{account.pk}/", body, content_type=MULTIPART_CONTENT
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["Null characters are not allowed."]}
    account.refresh_from_db()
    assert account.name == "rep_a account"


@pytest.mark.django_db
@pytest.mark.parametrize("as_multipart", [False, True], ids=["urlencoded", "multipart"])
def test_a_form_post_to_the_api_is_checked_by_its_parser(api_client_for, rep_a, as_multipart):
    before = _row_counts()
    data = {"name": "bad\x00name"}
    if as_multipart:
        body, content_type = encode_multipart(BOUNDARY, data), MULTIPART_CONTENT
    else:
        body, content_type = "name=bad%00name", "application/x-www-form-urlencoded"

    response = api_client_for(rep_a).post("/api/v1/accounts/", body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["Null characters are not allowed."]}
    assert _row_counts() == before
