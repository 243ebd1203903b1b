"""Territory and quota pages: visibility per persona, the apply forms, query budgets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account
from territories import selectors, services
from territories.models import AccountTerritoryAssignment, Quota, QuotaChange
from tests.factories import AccountFactory, OpportunityFactory, UserFactory
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory, QuotaFactory


def get(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(name, args=args), params)


@pytest.fixture
def booked(territory_map, rep_a, se_a, rep_b, process):
    """NorCal holds three accounts of 3000, SoCal one of 1000, NewYork one of 2000; each
    account has an open deal, and each territory a rule for its state. The planning reports
    the overview reads are computed at the end."""
    for key, owner, revenues, state in (
        ("norcal", rep_a, (3000, 3000, 3000), "CA"),
        ("socal", se_a, (1000,), "NV"),
        ("newyork", rep_b, (2000,), "NY"),
    ):
        AssignmentRuleFactory(name=f"{key} rule", territory=territory_map[key], states=[state])
        for i, revenue in enumerate(revenues):
            account = AccountFactory(
                name=f"{key} account {i}", owner=owner, state=state, annual_revenue=revenue
            )
            AssignmentFactory(account=account, territory=territory_map[key])
            OpportunityFactory(account=account, owner=owner, amount=Decimal(500))
    services.planning_refresh(force=True)
    return territory_map


@pytest.mark.parametrize(
    ("viewer", "shown", "hidden"),
    [
        ("manager_a", {"NorCal", "SoCal", "West"}, {"NewYork", "East"}),
        ("manager_b", {"NewYork"}, {"NorCal", "SoCal"}),
        ("executive", {"NorCal", "SoCal", "NewYork", "East", "West"}, set()),
    ],
)
def test_overview_shows_the_territories_the_viewer_sees(
    client, personas, booked, viewer, shown, hidden
):
    response = get(client, personas[viewer], "territories:overview")

    assert response.status_code == 200
    names = {row.territory.name for row in response.context["tree"] if not row.is_context}
    balance = {row["name"] for row in response.context["balance"].rows}
    assert shown <= names
    assert not (hidden & names)
    assert not (hidden & balance)
    assert response.context["plan"] is not None


@pytest.mark.parametrize("name", ["territories:overview", "territories:quota_plan"])
def test_a_rep_is_refused_the_leaders_territory_pages(client, personas, booked, name):
    # The rep's navigation has no link to them (salesmgmt.navigation): the pages agree.
    assert get(client, personas["rep_a"], name).status_code == 403


def test_overview_has_the_chart_and_rebalancing_form_for_planners(client, executive, booked):
    response = get(client, executive, "territories:overview", band="10")

    html = response.content.decode()
    assert 'class="plotly-graph-div' in html
    assert "vendor/plotly.min.js" in html
    assert reverse("territories:rebalance_apply") in html
    assert len(response.context["plan"].moves) == 2


def test_pages_refuse_integrators(client, integrator):
    assert get(client, integrator, "territories:overview").status_code == 403
    assert get(client, integrator, "territories:quota_plan").status_code == 403


def test_rebalancing_is_applied_from_the_page(client, executive, booked):
    # given the proposal recomputed for a ±50% band, as the "recompute now" button does
    services.planning_refresh(force=True, band=Decimal("0.5"))
    page = get(client, executive, "territories:overview")
    plan, form = page.context["plan"], page.context["apply_form"]
    assert plan == selectors.rebalance_preview(actor=executive, band=Decimal("0.5"))

    response = client.post(reverse("territories:rebalance_apply"), form.initial)

    assert response.status_code == 302
    assert len(plan.moves) == 1  # one 3000 account from NorCal to SoCal: 6000 / 4000 / 2000
    moved = AccountTerritoryAssignment.objects.filter(source="rebalance")
    assert {(row.account_id, row.territory_id) for row in moved} == {
        (m.account_id, m.to_territory_id) for m in plan.moves
    }


def test_a_stale_rebalancing_form_changes_nothing(client, executive, booked):
    proposal = get(client, executive, "territories:overview").context["proposal"].proposal
    response = client.post(
        reverse("territories:rebalance_apply"),
        {"proposal": proposal.pk, "fingerprint": "stale"},
        follow=True,
    )
    assert "changed since the preview" in response.content.decode()
    assert not AccountTerritoryAssignment.objects.filter(source="rebalance").exists()


def test_rule_preview_page_and_apply(client, executive, manager_a, rep_a, rep_b, booked):
    stray = AccountFactory(name="Stray", state="CA", owner=rep_b)
    assert get(client, rep_a, "territories:assignment_preview").status_code == 403

    response = get(client, executive, "territories:assignment_preview")
    assert [m.account_id for m in response.context["plan"].moves] == [stray.pk]

    form = response.context["form"].initial
    client.post(
        reverse("territories:assignment_apply"),
        {"fingerprint": form["fingerprint"], "move_open_opportunities": "on"},
    )
    assert Account.objects.get(pk=stray.pk).owner == rep_a


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("manager_a", {"manager_a", "rep_a", "se_a"}),
        ("executive", {"executive", "manager_a", "manager_b", "rep_a", "se_a", "rep_b"}),
    ],
)
def test_quota_plan_shows_the_viewers_part_of_the_tree(client, personas, q1, viewer, expected):
    QuotaFactory(user=personas["rep_a"], period=q1)

    response = get(client, personas[viewer], "territories:quota_plan", period=q1.pk)

    people = {row.person.username for row in response.context["plan"].rows}
    assert people == {personas[name].username for name in expected}
    assert (response.context["plan"].company is not None) == (viewer == "executive")


def test_quota_edit_page_is_404_outside_visibility_and_read_only_for_oneself(client, personas, q1):
    assert (
        get(
            client, personas["manager_a"], "territories:quota_edit", q1.pk, personas["rep_b"].pk
        ).status_code
        == 404
    )
    mine = get(client, personas["rep_a"], "territories:quota_edit", q1.pk, personas["rep_a"].pk)
    assert mine.status_code == 200
    assert mine.context["form"] is None
    client.force_login(personas["rep_a"])
    url = reverse("territories:quota_edit", args=[q1.pk, personas["rep_a"].pk])
    assert client.post(url, {"basis": "explicit", "amount": "1", "reason": "x"}).status_code == 403


def test_a_manager_edits_a_quota_on_the_page_with_a_reason(client, manager_a, rep_a, q1):
    quota = QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(1000), amount=Decimal(1000))
    client.force_login(manager_a)
    url = reverse("territories:quota_edit", args=[q1.pk, rep_a.pk])

    missing_reason = client.post(url, {"basis": "components", "manager_adjustment": "50"})
    assert missing_reason.status_code == 400
    assert missing_reason.context["form"].errors["reason"]

    response = client.post(
        url,
        {
            "basis": "components",
            "territory_quota": "1000",
            "assignment_share": "1",
            "manager_adjustment": "50",
            "reason": "Extra account",
            "version": quota.version,
        },
    )

    assert response.status_code == 302
    assert Quota.objects.get(pk=quota.pk).amount == Decimal("1050.00")
    change = QuotaChange.objects.get(field="manager_adjustment")
    assert (change.changed_by, change.reason) == (manager_a, "Extra account")
    page = get(client, manager_a, "territories:quota_edit", q1.pk, rep_a.pk)
    assert "Extra account" in page.content.decode()

    # the same form again, on the version it was read at: someone saved since (409)
    stale = client.post(
        url,
        {"basis": "components", "territory_quota": "1000", "assignment_share": "1",
         "manager_adjustment": "70", "reason": "Late edit", "version": quota.version},
    )  # fmt: skip
    assert stale.status_code == 409
    assert Quota.objects.get(pk=quota.pk).amount == Decimal("1050.00")


def test_allocation_page_previews_then_applies(client, executive, manager_a, booked, q1):
    assert get(client, manager_a, "territories:allocation").status_code == 403
    params = {"period": q1.pk, "amount": "1000.00", "method": "potential", "reason": "Plan"}

    preview = get(client, executive, "territories:allocation", **params)
    assert preview.context["preview"].total == Decimal("1000.00")
    assert not Quota.objects.exists()

    response = client.post(reverse("territories:allocation"), params)
    assert response.status_code == 302
    assert sum(q.territory_quota for q in Quota.objects.filter(period=q1)) == Decimal("1000.00")


def grow(territory_map, n, process):
    """``n`` more accounts, deals and quota-carrying reps in the map."""
    for i in range(n):
        rep = UserFactory(
            manager=territory_map["norcal"].owner.manager, hire_date=dt.date(2026, 1, 2)
        )
        account = AccountFactory(owner=rep, state="CA", annual_revenue=Decimal(100 + i))
        AssignmentFactory(account=account, territory=territory_map["norcal" if i % 2 else "socal"])
        AssignmentRuleFactory(territory=territory_map["newyork"], states=[f"S{i}"])
        OpportunityFactory(account=account, owner=rep, amount=Decimal(10))


# The overview as an executive, read from the planning snapshot: session and user (2); the
# latest snapshot with the current generation (1); its balance figures with territory and
# owner (1); coverage: counts, first gaps, first overlaps (3); rebalancing: the proposal, its
# moves, the actor's plannable territories (3); the tree: all territories, open overlays,
# visible ids (3); the rules with their named-account counts (1); the company settings (the
# reporting currency, 1); the balance trend: its recorded weeks, their visible rows (2). No
# query touches accounts or rules per account: the counts do not grow with the book.
OVERVIEW_QUERIES = 17


@pytest.mark.parametrize("extra", [0, 25])
def test_overview_query_budget(
    client, django_assert_max_num_queries, executive, booked, extra, process
):
    grow(booked, extra, process)
    services.planning_refresh(force=True)
    client.force_login(executive)
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get(reverse("territories:overview"))
    assert response.status_code == 200


# Quota planning as an executive: session and user (2); the period (1); periods for the picker
# (1); everyone's manager, the period's quotas, won deals, rates (4); sellers (1); the ramp
# schedule (1); the company target (1); the company settings (the reporting currency, 1).
# ...and the bell's unread count (1).
QUOTA_PLAN_QUERIES = 13


@pytest.mark.parametrize("extra", [0, 25])
def test_quota_plan_query_budget(
    client, django_assert_max_num_queries, executive, booked, q1, extra, process
):
    grow(booked, extra, process)
    client.force_login(executive)
    with django_assert_max_num_queries(QUOTA_PLAN_QUERIES):
        response = client.get(reverse("territories:quota_plan"), {"period": q1.pk})
    assert response.status_code == 200
