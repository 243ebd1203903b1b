"""The API's writes keep Activity.deal_owner (see tests/accounts/test_activity_deal_owner.py)."""

from __future__ import annotations

from accounts.models import Activity
from tests.factories import OpportunityFactory


def deal_owner(activity: Activity) -> int | None:
    return Activity.objects.values_list("deal_owner_id", flat=True).get(pk=activity.pk)


def test_the_api_keeps_it_when_logging_and_reassigning(
    rep_a, rep_b, manager_a, executive, process, api_client_for
):
    deal = OpportunityFactory(owner=rep_a, process=process)

    created = api_client_for(manager_a).post(
        "/api/v1/activities/", {"kind": "call", "opportunity": deal.pk}, format="json"
    )
    assert created.status_code == 201, created.content
    call = Activity.objects.get(pk=created.json()["id"])
    assert deal_owner(call) == rep_a.pk
    moved = api_client_for(executive).patch(
        f"/api/v1/opportunities/{deal.pk}/",
        {"owner": rep_b.pk},
        format="json",
        HTTP_IF_MATCH=f'"{deal.version}"',
    )
    assert moved.status_code == 200, moved.content

    assert deal_owner(call) == rep_b.pk
