"""Pages and form actions: what one POST does, what a refusal shows, and query budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import (
    Activity,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
)
from tests.accounts.conftest import open_deal
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
    build_process,
    complete_closing_milestones,
)


def milestone(deal, name):
    return deal.process.stages.get(milestones__name=name).milestones.get(name=name)


def edit_data(deal, **overrides) -> dict:
    """The edit form as the page renders it, with ``overrides`` typed in."""
    data = {
        "name": deal.name,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_on": deal.expected_close_on.isoformat(),
        "forecast_category": deal.forecast_category,
        "next_step": deal.next_step,
        "owner": deal.owner_id,
        "expected_version": deal.version,
    }
    data.update(overrides)
    return data


def snapshot() -> tuple[int, int, int, list]:
    """Everything an action could write, to assert that a refused one wrote nothing."""
    return (
        Activity.objects.count(),
        MilestoneCompletion.objects.count(),
        OpportunityChange.objects.count(),
        list(Opportunity.objects.order_by("pk").values()),
    )


# --- rep home -----------------------------------------------------------------------------------


def test_rep_home_shows_open_deals_by_close_date_with_next_milestone(client, process, rep_a):
    account = AccountFactory(owner=rep_a, name="Acme")
    open_deal(rep_a, account, "Late deal", days=90)
    soon = open_deal(rep_a, account, "Soon deal", days=10)
    services.milestone_complete(
        actor=rep_a, opportunity=soon, milestone=milestone(soon, "Qualify #1")
    )
    won = open_deal(rep_a, account, "Won deal", days=5)
    complete_closing_milestones(won)
    services.opportunity_close_won(actor=rep_a, opportunity=won)
    client.force_login(rep_a)

    response = client.get(reverse("accounts:rep_home"))

    rows = response.context["rows"]
    assert [deal.name for deal, _, _ in rows] == ["Soon deal", "Late deal"]
    assert [m.name for _, m, _ in rows] == ["Qualify #2", "Qualify #1"]
    text = response.text
    assert text.index("Soon deal") < text.index("Late deal")
    assert "Won deal" not in text
    assert "50,000.00" in text
    assert "Log call" in text
    assert (
        reverse("accounts:milestone_complete", args=[soon.pk, milestone(soon, "Qualify #2").pk])
        in text
    )


def test_rep_home_shows_the_last_ten_own_activities(client, rep_a, rep_b):
    account = AccountFactory(owner=rep_a)
    for i in range(12):
        ActivityFactory(owner=rep_a, account=account, notes=f"note {i}")
    ActivityFactory(owner=rep_b, notes="someone else's")
    client.force_login(rep_a)

    response = client.get(reverse("accounts:rep_home"))

    assert len(response.context["recent_activities"]) == 10
    assert all(a.owner_id == rep_a.pk for a in response.context["recent_activities"])


def test_log_call_from_rep_home_is_one_post_and_redirects_back(client, rep_a, deal_a):
    client.force_login(rep_a)
    home = reverse("accounts:rep_home")

    response = client.post(
        reverse("accounts:activity_log"),
        {
            "opportunity": deal_a.pk,
            "kind": "call",
            "outcome": "connected",
            "notes": "Walked the CFO through pricing",
            "next_step": "Send the order form",
            "next": home,
        },
    )

    assert response.status_code == 302
    assert response.url == home
    activity = Activity.objects.get()
    assert (activity.kind, activity.owner, activity.opportunity, activity.account_id) == (
        "call",
        rep_a,
        deal_a,
        deal_a.account_id,
    )
    deal_a.refresh_from_db()
    assert deal_a.next_step == "Send the order form"
    assert "Call logged" in client.get(home).text


def test_log_activity_on_an_account_page(client, rep_a, account_a):
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:activity_log"),
        {"account": account_a.pk, "kind": "meeting", "notes": "Quarterly review"},
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:account_detail", args=[account_a.pk])
    assert Activity.objects.get().kind == "meeting"


def test_log_activity_refuses_bad_input_on_the_form(client, rep_a, deal_a):
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:activity_log"), {"opportunity": deal_a.pk, "kind": "carrier pigeon"}
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not Activity.objects.exists()


def test_log_activity_redirect_ignores_foreign_next_urls(client, rep_a, deal_a):
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:activity_log"),
        {"opportunity": deal_a.pk, "kind": "call", "next": "https://evil.example/"},
    )

    assert response.url == reverse("accounts:opportunity_detail", args=[deal_a.pk])


@pytest.mark.parametrize("target", ["rep_home", "x"])
def test_log_activity_redirect_ignores_a_next_that_is_not_a_path(client, rep_a, deal_a, target):
    # A bare word reached redirect() as a URL name: NoReverseMatch, a 500 (bad-input sweep).
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:activity_log"),
        {"opportunity": deal_a.pk, "kind": "call", "next": target},
    )

    assert response.url == reverse("accounts:opportunity_detail", args=[deal_a.pk])


# --- milestones ---------------------------------------------------------------------------------


def test_complete_milestone_without_required_evidence_is_a_form_error(client, rep_a, deal_a):
    client.force_login(rep_a)
    needs_evidence = milestone(deal_a, "Qualify #2")

    response = client.post(
        reverse("accounts:milestone_complete", args=[deal_a.pk, needs_evidence.pk]),
        {"evidence": "   "},
    )

    assert response.status_code == 400
    assert "needs evidence" in response.text
    assert not MilestoneCompletion.objects.exists()


def test_complete_milestone_with_evidence_moves_the_deal_on(client, rep_a, deal_a):
    client.force_login(rep_a)
    url = reverse(
        "accounts:milestone_complete", args=[deal_a.pk, milestone(deal_a, "Qualify #1").pk]
    )

    first = client.post(url, {"next": reverse("accounts:rep_home")})
    second = client.post(
        reverse(
            "accounts:milestone_complete", args=[deal_a.pk, milestone(deal_a, "Qualify #2").pk]
        ),
        {"evidence": "Signed NDA: https://docs.example/nda.pdf"},
    )

    assert first.status_code == second.status_code == 302
    assert first.url == reverse("accounts:rep_home")
    assert second.url == reverse("accounts:opportunity_detail", args=[deal_a.pk])
    deal_a.refresh_from_db()
    assert deal_a.stage.name == "Discover"
    page = client.get(second.url).text
    assert "Signed NDA" in page
    assert "completed" in page


def test_completing_twice_shows_the_refusal(client, rep_a, deal_a):
    client.force_login(rep_a)
    url = reverse(
        "accounts:milestone_complete", args=[deal_a.pk, milestone(deal_a, "Qualify #1").pk]
    )
    client.post(url, {})

    response = client.post(url, {})

    assert response.status_code == 400
    assert "already completed" in response.text
    assert MilestoneCompletion.objects.count() == 1


def test_undo_a_milestone(client, rep_a, deal_a):
    done = milestone(deal_a, "Qualify #1")
    services.milestone_complete(actor=rep_a, opportunity=deal_a, milestone=done)
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:milestone_undo", args=[deal_a.pk, done.pk]), {"note": "Misclicked"}
    )

    assert response.status_code == 302
    latest = MilestoneCompletion.objects.latest("completed_at", "id")
    assert (latest.action, latest.note) == (MilestoneCompletion.Action.UNDO, "Misclicked")


def test_milestone_of_another_process_is_404(client, rep_a, deal_a):
    foreign = build_process(name="Other").stages.first().milestones.first()
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:milestone_complete", args=[deal_a.pk, foreign.pk]), {"evidence": "x"}
    )

    assert response.status_code == 404
    assert not MilestoneCompletion.objects.exists()


# --- verification by the manager ----------------------------------------------------------------


@pytest.fixture
def pending(rep_a, account_a):
    """A completion on rep_a's deal waiting for verification."""
    process = build_process(name="Verified", requires_verification=True)
    deal = open_deal(rep_a, account_a, "Verified deal", process=process)
    return services.milestone_complete(
        actor=rep_a,
        opportunity=deal,
        milestone=milestone(deal, "Qualify #1"),
        evidence="Call notes",
    )


def test_manager_sees_pending_completions_and_verifies_one(client, manager_a, pending):
    client.force_login(manager_a)
    home = client.get(reverse("accounts:rep_home"))
    detail = client.get(reverse("accounts:opportunity_detail", args=[pending.opportunity_id]))
    assert [c.pk for c in home.context["pending"]] == [pending.pk]
    verify_url = reverse("accounts:completion_verify", args=[pending.pk])
    assert verify_url in detail.text

    response = client.post(verify_url)

    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.verification_state, pending.verified_by) == ("verified", manager_a)
    assert not client.get(reverse("accounts:rep_home")).context["pending"]


def test_manager_rejects_only_with_a_reason(client, manager_a, pending):
    client.force_login(manager_a)
    url = reverse("accounts:completion_reject", args=[pending.pk])

    refused = client.post(url, {"reason": "  "})
    pending.refresh_from_db()
    assert refused.status_code == 400
    assert "Say what is wrong with the evidence." in refused.text
    assert pending.verification_state == "pending"

    accepted = client.post(url, {"reason": "No customer signature"})
    pending.refresh_from_db()
    assert accepted.status_code == 302
    assert (pending.verification_state, pending.rejection_reason) == (
        "rejected",
        "No customer signature",
    )


def test_rep_cannot_verify_their_own_completion(client, rep_a, pending):
    client.force_login(rep_a)
    detail = client.get(reverse("accounts:opportunity_detail", args=[pending.opportunity_id]))
    verify_url = reverse("accounts:completion_verify", args=[pending.pk])
    assert verify_url not in detail.text

    response = client.post(verify_url)

    assert response.status_code == 403
    assert "Only the owner&#x27;s manager can verify" in response.text
    pending.refresh_from_db()
    assert pending.verification_state == "pending"


def test_other_teams_manager_gets_404_on_a_completion(client, manager_b, pending):
    client.force_login(manager_b)

    assert client.post(reverse("accounts:completion_verify", args=[pending.pk])).status_code == 404
    pending.refresh_from_db()
    assert pending.verification_state == "pending"


# --- editing a deal -----------------------------------------------------------------------------


def test_edit_a_deal_records_history_with_names(client, rep_a, manager_a, deal_a):
    client.force_login(manager_a)

    response = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]),
        edit_data(deal_a, amount="62500.50", forecast_category="commit", next_step="Legal review"),
    )

    assert response.status_code == 302
    deal_a.refresh_from_db()
    assert deal_a.amount == Decimal("62500.50")
    assert (deal_a.forecast_category, deal_a.next_step, deal_a.version) == (
        "commit",
        "Legal review",
        2,
    )
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
    # Newest first: the first row of each field is this edit
    rows = {}
    for row in page.context["history_rows"]:
        rows.setdefault(row.change.field, row)
    assert (rows["amount"].old_display, rows["amount"].new_display) == ("50000.00", "62500.50")
    assert rows["forecast_category"].new_display == "Commit"
    # Opening rows show the owner and stage by name, never by id
    opening = [row for row in page.context["history_rows"] if row.change.field == "owner"]
    assert opening[0].new_display == str(rep_a)


def test_reassigning_outside_the_actors_visibility_is_a_form_error(client, rep_a, rep_b, deal_a):
    client.force_login(rep_a)
    before = snapshot()

    response = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]), edit_data(deal_a, owner=rep_b.pk)
    )

    # The owner may not give the deal away at all (the form does not offer it): refused.
    assert response.status_code == 403
    assert response.context["edit_form"].non_field_errors() == [
        "Only the owner's managers, executives and admins can give this record to someone else."
    ]
    assert snapshot() == before


def test_manager_reassigns_within_their_team(client, manager_a, se_a, deal_a):
    client.force_login(manager_a)

    response = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]), edit_data(deal_a, owner=se_a.pk)
    )

    assert response.status_code == 302
    deal_a.refresh_from_db()
    assert deal_a.owner == se_a


def test_stale_edit_shows_a_conflict_and_changes_nothing(client, rep_a, manager_a, deal_a):
    # Given rep_a opened the edit form at version 1, then the manager saved a change
    stale_form = edit_data(deal_a, amount="1.00")
    services.opportunity_update(
        actor=manager_a, opportunity=deal_a, expected_version=1, next_step="Manager's step"
    )
    before = snapshot()
    client.force_login(rep_a)

    response = client.post(reverse("accounts:opportunity_edit", args=[deal_a.pk]), stale_form)

    assert response.status_code == 409
    assert "was changed by someone else" in response.text
    assert snapshot() == before
    # The form keeps what rep_a typed, now based on the current version.
    form = response.context["edit_form"]
    assert form["amount"].value() == "1.00"
    assert form["expected_version"].value() == "2"


def test_edit_refuses_invalid_input_without_a_500(client, rep_a, deal_a):
    client.force_login(rep_a)
    before = snapshot()

    response = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]),
        edit_data(deal_a, amount="-5", currency="XYZ", expected_close_on="not a date"),
    )

    assert response.status_code == 400
    errors = response.context["edit_form"].errors
    assert {"amount", "expected_close_on"} <= set(errors)
    assert snapshot() == before


def test_edit_to_an_unknown_currency_shows_the_services_error(client, rep_a, deal_a):
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]), edit_data(deal_a, currency="xyz")
    )

    assert response.status_code == 400
    assert response.context["edit_form"].errors["currency"] == [
        "No exchange rate for XYZ; add one first."
    ]


# --- closing ------------------------------------------------------------------------------------


def test_close_won(client, rep_a, deal_a):
    complete_closing_milestones(deal_a)
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:opportunity_close_won", args=[deal_a.pk]),
        {"expected_version": deal_a.version, "closed_on": "2030-01-15"},
    )

    assert response.status_code == 302
    deal_a.refresh_from_db()
    assert (deal_a.status, deal_a.closed_on) == ("won", dt.date(2030, 1, 15))
    assert "closed won" in client.get(response.url).text


def test_close_lost_needs_a_reason(client, rep_a, deal_a):
    client.force_login(rep_a)
    url = reverse("accounts:opportunity_close_lost", args=[deal_a.pk])

    refused = client.post(url, {"expected_version": deal_a.version, "lost_reason": ""})
    deal_a.refresh_from_db()
    assert refused.status_code == 400
    assert "Say why the deal was lost." in refused.text
    assert deal_a.is_open

    accepted = client.post(url, {"expected_version": deal_a.version, "lost_reason": "Budget cut"})
    deal_a.refresh_from_db()
    assert accepted.status_code == 302
    assert (deal_a.status, deal_a.lost_reason) == ("lost", "Budget cut")


def test_closing_a_closed_deal_is_refused_on_the_form(client, rep_a, deal_a):
    complete_closing_milestones(deal_a)
    services.opportunity_close_won(actor=rep_a, opportunity=deal_a)
    deal_a.refresh_from_db()
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:opportunity_close_lost", args=[deal_a.pk]),
        {"expected_version": deal_a.version, "lost_reason": "Changed my mind"},
    )

    assert response.status_code == 400
    assert "already won" in response.text


# --- another team's deal: 404, nothing written --------------------------------------------------


def test_actions_on_another_teams_deal_are_404_and_write_nothing(client, rep_a, rep_b, deal_b):
    first = milestone(deal_b, "Qualify #1")
    completion = services.milestone_complete(actor=rep_b, opportunity=deal_b, milestone=first)
    client.force_login(rep_a)
    before = snapshot()
    posts = {
        reverse("accounts:opportunity_edit", args=[deal_b.pk]): edit_data(deal_b, amount="1"),
        reverse("accounts:opportunity_close_won", args=[deal_b.pk]): {"expected_version": 2},
        reverse("accounts:opportunity_close_lost", args=[deal_b.pk]): {
            "expected_version": 2,
            "lost_reason": "x",
        },
        reverse("accounts:milestone_complete", args=[deal_b.pk, first.pk]): {"evidence": "x"},
        reverse("accounts:milestone_undo", args=[deal_b.pk, first.pk]): {},
        reverse("accounts:completion_verify", args=[completion.pk]): {},
        reverse("accounts:completion_reject", args=[completion.pk]): {"reason": "x"},
        reverse("accounts:activity_log"): {"opportunity": deal_b.pk, "kind": "call"},
    }

    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url
    assert (
        client.post(
            reverse("accounts:activity_log"), {"account": deal_b.account_id, "kind": "call"}
        ).status_code
        == 404
    )
    assert snapshot() == before


def test_pages_accept_no_get_for_actions(client, rep_a, deal_a):
    client.force_login(rep_a)

    response = client.get(reverse("accounts:opportunity_edit", args=[deal_a.pk]))

    assert response.status_code == 405


# --- lists: filters, search, pagination --------------------------------------------------------


def test_opportunity_list_defaults_to_open_and_filters_by_status(client, rep_a, account_a, process):
    open_deal(rep_a, account_a, "Still open")
    won = open_deal(rep_a, account_a, "Already won")
    complete_closing_milestones(won)
    services.opportunity_close_won(actor=rep_a, opportunity=won)
    client.force_login(rep_a)
    url = reverse("accounts:opportunity_list")

    def names(params):
        return [d.name for d in client.get(url, params).context["deals"].page.object_list]

    assert names({}) == ["Still open"]
    assert names({"status": "won"}) == ["Already won"]
    assert sorted(names({"status": ""})) == ["Already won", "Still open"]


def test_lists_are_paginated_by_25_and_keep_filters(client, rep_a, process):
    account = AccountFactory(owner=rep_a)
    OpportunityFactory.create_batch(30, owner=rep_a, account=account)
    client.force_login(rep_a)

    first = client.get(reverse("accounts:opportunity_list"), {"status": "open"})
    second = client.get(reverse("accounts:opportunity_list"), {"status": "open", "page": 2})

    assert len(first.context["deals"].page.object_list) == 25
    assert len(second.context["deals"].page.object_list) == 5
    assert "?status=open&amp;page=2" in first.text
    # A nonsense page number shows a real page rather than an error
    assert client.get(reverse("accounts:opportunity_list"), {"page": "x"}).status_code == 200


def test_account_list_searches_by_name(client, rep_a):
    AccountFactory(owner=rep_a, name="Globex Industries")
    AccountFactory(owner=rep_a, name="Initech")
    client.force_login(rep_a)

    response = client.get(reverse("accounts:account_list"), {"q": "glob"})

    assert [a.name for a in response.context["accounts"].page.object_list] == ["Globex Industries"]


def test_login_page_and_logout_post(client, rep_a):
    assert client.get(reverse("login")).status_code == 200

    response = client.post(reverse("login"), {"username": "rep_a", "password": "pw"})
    assert response.status_code == 302
    assert client.get(reverse("accounts:rep_home")).status_code == 200

    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("accounts:rep_home")).status_code == 302


# --- query budgets ------------------------------------------------------------------------------


@pytest.fixture
def busy_rep(process, rep_a):
    """rep_a with ``n`` deals on one account, each with an activity, a completion, a contact."""

    def build(n: int):
        account = AccountFactory(owner=rep_a)
        first = process.stages.order_by("order").first().milestones.first()
        for i in range(n):
            deal = open_deal(rep_a, account, f"Deal {i}", days=i)
            services.milestone_complete(actor=rep_a, opportunity=deal, milestone=first)
            ActivityFactory(owner=rep_a, account=account, opportunity=deal)
            ContactFactory(account=account)
        return account

    return build


# Rep home for a rep: session, user, deals count, deals page, open milestones (milestones of
# the page's processes with their stages, completion records; the next is among them), the
# current quarter and my attainment (people, quotas, exchange rates, bookings), recent
# activities. (+1 for managers: pending list.)
REP_HOME_QUERIES = 12
# Opportunity list: session, user, people for the owner filter, the ids of the people a
# manager sees (visible_user_ids), deals count, deals page.
# ...and the bell's unread count (1).
OPPORTUNITY_LIST_QUERIES = 7
# Opportunity detail: session, user, the deal; checklist (stages, milestones, completion
# records); history (count, page, stage names, owner names — each only when the page shows
# such a change); activities linked to a milestone (1), the others (count, page); assignable
# owners; team members; line items with their products, and the active products for the add
# form; the win probability panel (its stored row, the model, the close date pushes, the
# process's milestones: 4, 1 when the deal has no probability yet); the team's history and,
# for those who may change it, the people to add; the last two-way contact (1).
OPPORTUNITY_DETAIL_QUERIES = 24
# Account detail: session, user, the account; open deals for the log form; contacts (count,
# page); opportunities (count, page); activities (count, page).
# ...and the bell's unread count (1).
ACCOUNT_DETAIL_QUERIES = 11


@pytest.mark.parametrize("n", [5, 30])
def test_rep_home_query_budget(client, django_assert_max_num_queries, rep_a, busy_rep, n):
    busy_rep(n)
    client.force_login(rep_a)

    with django_assert_max_num_queries(REP_HOME_QUERIES):
        response = client.get(reverse("accounts:rep_home"))

    assert len(response.context["rows"]) == min(n, 25)


@pytest.mark.parametrize("n", [5, 30])
def test_opportunity_list_query_budget(
    client, django_assert_max_num_queries, manager_a, busy_rep, n
):
    busy_rep(n)
    client.force_login(manager_a)

    with django_assert_max_num_queries(OPPORTUNITY_LIST_QUERIES):
        response = client.get(reverse("accounts:opportunity_list"))

    assert len(response.context["deals"].page.object_list) == min(n, 25)


@pytest.mark.parametrize("n", [5, 30])
def test_opportunity_detail_query_budget(
    client, django_assert_max_num_queries, rep_a, manager_a, deal_a, n
):
    # Given n activities and n more history rows
    for i in range(n):
        ActivityFactory(owner=rep_a, account=deal_a.account, opportunity=deal_a)
        services.opportunity_update(
            actor=manager_a, opportunity=deal_a, amount=Decimal(1000 + i), currency="USD"
        )
    client.force_login(manager_a)

    with django_assert_max_num_queries(OPPORTUNITY_DETAIL_QUERIES):
        response = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    assert len(response.context["activities"].page.object_list) == min(n, 25)


@pytest.mark.parametrize("n", [5, 30])
def test_account_detail_query_budget(client, django_assert_max_num_queries, rep_a, busy_rep, n):
    account = busy_rep(n)
    client.force_login(rep_a)

    with django_assert_max_num_queries(ACCOUNT_DETAIL_QUERIES):
        response = client.get(reverse("accounts:account_detail", args=[account.pk]))

    assert len(response.context["opportunities"].page.object_list) == min(n, 25)


# --- bad input never becomes a 500 --------------------------------------------------------------


def test_out_of_range_ids_and_junk_are_404_or_form_errors(client, rep_a, deal_a):
    client.force_login(rep_a)
    huge = 10**30

    assert client.get(f"/opportunities/{huge}/").status_code == 404
    assert client.get(f"/accounts/{huge}/").status_code == 404
    assert client.post(f"/completions/{huge}/verify/").status_code == 404
    assert client.post(f"/opportunities/{deal_a.pk}/milestones/{huge}/complete/").status_code == 404
    assert client.post("/activities/log/", {"opportunity": huge, "kind": "call"}).status_code == 302
    edit = client.post(
        reverse("accounts:opportunity_edit", args=[deal_a.pk]),
        edit_data(deal_a, owner=huge, expected_version=huge),
    )
    assert edit.status_code == 400
    assert client.get(reverse("accounts:opportunity_list"), {"owner": huge}).status_code == 200
    assert not Activity.objects.exists()


def test_a_refused_post_renders_links_to_the_page_not_the_action(client, rep_a, deal_a):
    for i in range(30):
        ActivityFactory(owner=rep_a, account=deal_a.account, opportunity=deal_a, notes=f"n{i}")
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:opportunity_close_lost", args=[deal_a.pk]),
        {"expected_version": deal_a.version, "lost_reason": ""},
    )

    detail = reverse("accounts:opportunity_detail", args=[deal_a.pk])
    assert response.status_code == 400
    assert f'href="{detail}?activities=2#activities"' in response.text
    assert "Nothing was saved" in response.text
