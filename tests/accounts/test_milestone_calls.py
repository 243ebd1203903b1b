"""A rep logs a call against one of the deal's open milestones, from rep home or the deal page;
the deal page shows calls under the milestone they advanced and the rest as "Other activity"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Activity
from tests.accounts.conftest import open_deal
from tests.factories import AccountFactory, ActivityFactory, build_process


def milestone(deal, name):
    return deal.process.stages.get(milestones__name=name).milestones.get(name=name)


def log(client, deal, **data):
    return client.post(
        reverse("accounts:activity_log"),
        {"opportunity": deal.pk, "kind": "call", "notes": "Walked the CFO through it", **data},
    )


def test_rep_logs_a_call_against_a_milestone_of_the_deal(client, rep_a, deal_a):
    target = milestone(deal_a, "Qualify #2")
    client.force_login(rep_a)

    response = log(client, deal_a, milestone=target.pk)

    assert response.status_code == 302
    activity = Activity.objects.get(opportunity=deal_a)
    assert activity.milestone == target
    page = client.get(response.url)
    assert "Call logged on Alpha rollout against “Qualify #2”." in page.text


def test_the_milestone_is_optional(client, rep_a, deal_a):
    client.force_login(rep_a)

    response = log(client, deal_a, milestone="")

    assert response.status_code == 302
    assert Activity.objects.get(opportunity=deal_a).milestone is None


@pytest.mark.parametrize("which", ["other process", "unknown", "junk"])
def test_a_milestone_not_of_the_deal_is_a_400_on_the_field(client, rep_a, deal_a, which):
    foreign = build_process(name="Other").stages.first().milestones.first()
    value = {"other process": foreign.pk, "unknown": 10**9, "junk": "abc"}[which]
    client.force_login(rep_a)

    response = log(client, deal_a, milestone=value)

    assert response.status_code == 400
    assert response.context["log_form"].errors["milestone"]
    assert not Activity.objects.exists()


def test_a_rep_cannot_log_on_someone_elses_deal_whatever_the_milestone(client, rep_a, deal_b):
    client.force_login(rep_a)

    response = log(client, deal_b, milestone=milestone(deal_b, "Qualify #1").pk)

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_log_forms_offer_only_the_deals_open_milestones(client, rep_a, deal_a):
    services.milestone_complete(
        actor=rep_a, opportunity=deal_a, milestone=milestone(deal_a, "Qualify #1")
    )
    client.force_login(rep_a)

    home = client.get(reverse("accounts:rep_home"))
    detail = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    [(_deal, next_one, offered)] = home.context["rows"]
    assert next_one.name == "Qualify #2"
    assert "Qualify #1" not in [m.name for m in offered]
    assert [m.name for m in offered][:2] == ["Qualify #2", "Discover #1"]
    assert f'id="milestone-{deal_a.pk}"' in home.text
    choices = dict(detail.context["log_form"].fields["milestone"].widget.choices)
    assert "Qualify" in choices
    assert [name for _, name in choices["Qualify"]] == ["Qualify #2"]


def test_a_closed_deal_offers_no_milestone(client, rep_a, deal_a):
    services.opportunity_close_lost(actor=rep_a, opportunity=deal_a, lost_reason="Budget")
    client.force_login(rep_a)

    detail = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    assert detail.context["log_form"].fields["milestone"].widget.input_type == "hidden"


def test_deal_page_groups_calls_under_the_milestone_they_advanced(client, manager_a, rep_a, deal_a):
    qualify, discover = milestone(deal_a, "Qualify #1"), milestone(deal_a, "Discover #1")
    account = deal_a.account
    ActivityFactory(owner=rep_a, account=account, opportunity=deal_a, milestone=discover, notes="D")
    ActivityFactory(owner=rep_a, account=account, opportunity=deal_a, milestone=qualify, notes="Q1")
    ActivityFactory(owner=rep_a, account=account, opportunity=deal_a, milestone=qualify, notes="Q2")
    ActivityFactory(owner=rep_a, account=account, opportunity=deal_a, notes="Loose call")
    client.force_login(manager_a)

    response = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    groups = response.context["milestone_activities"]
    assert [g.milestone.name for g in groups] == ["Qualify #1", "Discover #1"]  # process order
    assert sorted(a.notes for a in groups[0].activities) == ["Q1", "Q2"]
    assert [a.notes for a in response.context["activities"].page.object_list] == ["Loose call"]
    text = response.text
    assert text.index("Qualify #1 <span") < text.index("Other activity") < text.index("Loose call")


# Opportunity detail with milestone-linked calls: the same budget as without (see
# tests/accounts/test_views.py, OPPORTUNITY_DETAIL_QUERIES): the grouped calls are one query
# with their milestone, stage, owner and account joined, whatever their number.
# ...and the bell's unread count (1), the last two-way contact (1).
DETAIL_QUERIES = 19


@pytest.mark.parametrize("n", [3, 30])
def test_grouped_calls_cost_the_same_queries_for_any_number(
    client, django_assert_max_num_queries, rep_a, deal_a, n
):
    names = ["Qualify #1", "Qualify #2", "Discover #1"]
    for i in range(n):
        ActivityFactory(
            owner=rep_a,
            account=deal_a.account,
            opportunity=deal_a,
            milestone=milestone(deal_a, names[i % 3]),
        )
    client.force_login(rep_a)

    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    assert sum(len(g.activities) for g in response.context["milestone_activities"]) == n


@pytest.mark.parametrize("n", [3, 20])
def test_rep_home_with_milestone_choices_stays_within_its_budget(
    client, django_assert_max_num_queries, process, rep_a, n
):
    account = AccountFactory(owner=rep_a)
    other = build_process(name="Other")
    for i in range(n):
        open_deal(rep_a, account, f"Deal {i}", days=i, process=other if i % 2 else None)
    client.force_login(rep_a)

    with django_assert_max_num_queries(12):  # REP_HOME_QUERIES in test_views.py
        response = client.get(reverse("accounts:rep_home"))

    assert all(offered for _, _, offered in response.context["rows"])
