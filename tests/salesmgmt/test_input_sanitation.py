"""The one sanitation point for outside text (issue 14, L1): depth, lone surrogates, NUL."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from salesmgmt.input_sanitation import (
    INVALID_UNICODE,
    MAX_JSON_DEPTH,
    NUL_CHARACTER,
    find_text_problem,
    json_too_deep,
    text_problem,
)


def test_depth_is_measured_without_recursion_and_ignores_brackets_in_strings():
    assert not json_too_deep("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    assert json_too_deep("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    assert json_too_deep("[" * 1_000_000)  # far past the interpreter's recursion limit
    brackets_in_text = json.dumps({"note": "[[[[{{{{" * 100, "q": 'a \\" [[[['})
    assert not json_too_deep(brackets_in_text)
    nested = {"a": [{"b": [1, 2, {"c": "]]]]"}]}]}
    assert not json_too_deep(json.dumps(nested), limit=5)
    assert json_too_deep(json.dumps(nested), limit=4)


def test_text_problems():
    assert text_problem("plain — ünïcode ✓ 😀") is None
    assert text_problem("a\ud800b") == INVALID_UNICODE
    assert text_problem("\udfff") == INVALID_UNICODE
    assert text_problem("a\x00b") == NUL_CHARACTER


def test_the_walk_names_the_path_and_checks_keys():
    data = {"ok": "x", "deals": [{"name": "fine"}, {"name": "bad\ud800"}]}
    assert find_text_problem(data) == ("deals.1.name", INVALID_UNICODE)
    assert find_text_problem({"nested": {"k\x00": 1}}) == ("nested", NUL_CHARACTER)
    assert find_text_problem([1, 2.5, None, True, {"a": ["b"]}]) is None
    deep: list = []
    for _ in range(100_000):  # iterative: no RecursionError
        deep = [deep]
    assert find_text_problem(deep) is None


@pytest.mark.parametrize("path", ["/api/v1/opportunities/", "/api/v1/accounts/"])
def test_a_nul_in_a_query_string_is_a_json_400_on_the_api(client, rep_a, path):
    client.force_login(rep_a)

    response = client.get(path, {"search": "a\x00b"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"search": [NUL_CHARACTER]}
    assert client.get(path, {"search": "ab"}).status_code == 200


def test_a_nul_in_a_page_query_or_form_post_is_a_400(client, rep_a):
    from salesmgmt.models import ApiToken

    client.force_login(rep_a)
    tokens = reverse("api_tokens")

    assert client.get(tokens, {"q": "1\x00"}).status_code == 400
    posted = client.post(tokens, {"name": "a\x00", "scope": "read"})
    assert posted.status_code == 400
    assert b"Null characters" in posted.content
    assert not ApiToken.objects.exists()
    assert client.get(tokens).status_code == 200


def test_a_nul_in_a_parameter_name_is_refused_too(client, rep_a):
    client.force_login(rep_a)

    response = client.get("/api/v1/accounts/?a%00b=1")

    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": [NUL_CHARACTER]}


def test_a_form_post_over_the_upload_limit_is_a_400_not_a_500(client, rep_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(rep_a)

    response = client.post(reverse("api_tokens"), {"name": "x" * 20_000, "scope": "read"})

    assert response.status_code == 400
