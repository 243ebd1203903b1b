"""A JSON body over Django's upload limit is a JSON 413, not an HTML 400 (bad-input sweep)."""

from __future__ import annotations

import json

from accounts.models import Contact


def test_a_json_body_over_the_upload_limit_is_a_json_413(api_client_for, rep_a, settings, world):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"account": world["rep_a"]["account"].pk, "first_name": "x" * 20_000, "last_name": "Y"}
    before = Contact.objects.count()

    response = api_client_for(rep_a).post(
        "/api/v1/contacts/", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "multipart/form-data" in response.json()["detail"]
    assert Contact.objects.count() == before
