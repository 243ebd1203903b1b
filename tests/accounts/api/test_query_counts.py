"""Query budgets: every list costs the same number of queries for 10 rows as for 100."""

from __future__ import annotations

import pytest

from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    MilestoneCompletionFactory,
    MilestoneFactory,
    OpportunityFactory,
    StageFactory,
    build_process,
)

# Each list as rep_a through a token, after one warm-up call (which stamps last_used_at):
#   1 the token with its user, 2 COUNT(*) for the page, 3 the page of rows with their
#   related records joined (select_related) — plus, for processes, 2 prefetches (stages,
#   milestones). Visibility is a WHERE clause of the same queries, never extra queries.
BUDGETS = {
    "accounts": 3,
    "contacts": 3,
    "opportunities": 3,
    "activities": 3,
    "milestone-completions": 3,
    "stages": 3,
    "milestones": 3,
    "processes": 5,
}


def _make_rows(kind: str, n: int, owner, process) -> None:
    account = AccountFactory(owner=owner)
    if kind == "accounts":
        AccountFactory.create_batch(n - 1, owner=owner)
    elif kind == "contacts":
        ContactFactory.create_batch(n, account=account)
    elif kind == "opportunities":
        OpportunityFactory.create_batch(n, owner=owner, account=account, process=process)
    elif kind == "activities":
        deal = OpportunityFactory(owner=owner, account=account, process=process)
        ActivityFactory.create_batch(
            n,
            owner=owner,
            account=account,
            opportunity=deal,
            milestone=deal.stage.milestones.first(),
        )
    elif kind == "milestone-completions":
        deal = OpportunityFactory(owner=owner, account=account, process=process)
        MilestoneCompletionFactory.create_batch(
            n, opportunity=deal, milestone=deal.stage.milestones.first(), verified_by=owner
        )
    elif kind == "stages":
        StageFactory.create_batch(n, process=process)
    elif kind == "milestones":
        MilestoneFactory.create_batch(n, stage=process.stages.first())
    elif kind == "processes":
        for i in range(n):
            build_process(name=f"P{i}", stages=(("A", 2), ("B", 1)))


@pytest.mark.parametrize("rows", [10, 100])
@pytest.mark.parametrize("kind", sorted(BUDGETS))
def test_list_query_count_does_not_grow_with_rows(
    kind, rows, rep_a, process, api_client_for, django_assert_max_num_queries
):
    _make_rows(kind, rows, rep_a, process)
    client = api_client_for(rep_a)
    url = f"/api/v1/{kind}/?page_size=100&expand=owner,account,opportunity,stage"
    client.get(url)  # warm-up: stamps the token's last_used_at

    with django_assert_max_num_queries(BUDGETS[kind]):
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.json()["results"]) >= min(rows, 100) - 1
