"""Idempotency-Key compares a digest of the whole request, however large the body."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.request import Request

from salesmgmt.api.idempotency import _fingerprint
from salesmgmt.models import ImportJob

URL = "/api/v1/imports/?kind=accounts&dry_run=true"


def _csv(last_name: str) -> str:
    """A CSV of about 3 MB (over the old 2 MB fingerprint limit) whose last row differs."""
    rows = "".join(f"Company {i:07d}\n" for i in range(200_000))
    return f"name\n{rows}{last_name}\n"


def _post(client, text: str, key: str):
    return client.generic(
        "POST", URL, text.encode(), content_type="text/csv", HTTP_IDEMPOTENCY_KEY=key
    )


def test_equal_length_large_bodies_with_the_same_key_are_different_requests(rep_a, api_client_for):
    client = api_client_for(rep_a)
    first_text, second_text = _csv("Last A"), _csv("Last B")
    assert len(first_text) == len(second_text) > 2 * 1024 * 1024

    first = _post(client, first_text, "big-1")
    second = _post(client, second_text, "big-1")

    assert first.status_code == 202, first.content
    assert second.status_code == 422
    assert ImportJob.objects.get().content == first_text  # the view read the whole body


def test_the_same_large_body_is_replayed(rep_a, api_client_for):
    client = api_client_for(rep_a)
    text = _csv("Last A")

    first = _post(client, text, "big-2")
    retry = _post(client, text, "big-2")

    assert retry.status_code == 202
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert ImportJob.objects.count() == 1


def test_parsed_uploads_of_the_same_name_and_size_but_other_content_differ(rf):
    def fingerprint(content: bytes) -> str:
        raw = rf.post("/api/v1/imports/", {"file": SimpleUploadedFile("a.csv", content)})
        assert raw.FILES  # the form is parsed first, as the CSRF check of a session does
        return _fingerprint(Request(raw))

    assert fingerprint(b"name\nAcme\n") == fingerprint(b"name\nAcme\n")
    assert fingerprint(b"name\nAcme\n") != fingerprint(b"name\nEvil\n")
