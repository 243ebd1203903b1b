"""Activities over the API: who owns a logged activity."""

from __future__ import annotations

from accounts.models import Activity

URL = "/api/v1/activities/"


def test_integrator_logs_a_call_for_a_rep(api_client_for, integrator, world, rep_a):
    account = world["rep_a"]["account"]

    response = api_client_for(integrator).post(
        URL, {"kind": "call", "account": account.pk, "owner": rep_a.pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Activity.objects.get(pk=response.json()["id"]).owner == rep_a


def test_without_an_owner_the_caller_owns_the_activity(api_client_for, rep_a, world):
    response = api_client_for(rep_a).post(
        URL, {"kind": "call", "account": world["rep_a"]["account"].pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Activity.objects.get(pk=response.json()["id"]).owner == rep_a


def test_a_rep_cannot_log_for_someone_outside_their_visibility(api_client_for, rep_a, rep_b, world):
    before = Activity.objects.count()

    response = api_client_for(rep_a).post(
        URL,
        {"kind": "call", "account": world["rep_a"]["account"].pk, "owner": rep_b.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "owner" in response.json()["fields"]
    assert Activity.objects.count() == before
