"""The OpenAPI schema generates cleanly and documents the conventions."""

from __future__ import annotations

import re

import yaml
from django.core.management import call_command


def test_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert "/api/v1/opportunities/{id}/complete/" in paths
    listing = paths["/api/v1/opportunities/"]["get"]
    params = {p["name"] for p in listing["parameters"]}
    assert {
        "updated_since",
        "cursor",
        "page",
        "expand",
        "format",
        "owner",
        "status",
        "close_after",
        "amount_min",
        "search",
        "ordering",
    } <= params
    assert {"400", "401", "403", "404", "429"} <= set(listing["responses"])
    patch = paths["/api/v1/opportunities/{id}/"]["patch"]
    assert {"If-Match"} <= {p["name"] for p in patch["parameters"]}
    assert "412" in patch["responses"]
    create = paths["/api/v1/opportunities/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    # ids in requests, {id, name} in responses
    assert schema["components"]["schemas"]["OpportunityRequest"]["properties"]["account"] == {
        "type": "integer"
    }


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # Assets come from the sidecar, offline: every script and stylesheet is one of ours. (Not a
    # search for "cdn": the page's random CSRF token spells it now and then.)
    assets = re.findall(rb'(?:src|href)="([^"]*)"', docs.content)
    assert assets
    assert all(url.startswith(b"/static/") for url in assets)
    assert not re.search(rb"https?://", docs.content)
