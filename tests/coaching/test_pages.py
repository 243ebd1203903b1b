"""Coaching pages: who lands where, who sees what (outside is 404), forms, query budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from coaching.models import (
    ActionItem,
    CallDebrief,
    DevelopmentPlan,
    EvidenceState,
    OpportunityScore,
    ResourceRequest,
)
from coaching.services import compliance_refresh
from territories.services import attainment_refresh
from tests.coaching.factories import (
    AccountReviewFactory,
    CallDebriefFactory,
    ResourceRequestFactory,
    default_template,
    kpi,
    team,
)
from tests.factories import OpportunityFactory, UserFactory


@pytest.fixture
def deal_a(process, rep_a):
    return OpportunityFactory(owner=rep_a, name="Deal of rep A")


@pytest.fixture
def review_a(deal_a, rep_a, manager_a):
    review = AccountReviewFactory(account=deal_a.account, created_by=manager_a)
    review.attendees.set([rep_a, manager_a])
    return review


# --- landing and visibility -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("rep_a", "accounts:rep_home"),
        ("manager_a", "coaching:team_dashboard"),
        ("executive", "coaching:executive_rollup"),
        ("admin", "coaching:executive_rollup"),
    ],
)
def test_home_sends_each_role_to_their_dashboard(client, personas, persona, target):
    client.force_login(personas[persona])

    response = client.get(reverse("home"))

    assert response.url == reverse(target)


def test_integrators_are_refused_the_pages(client, integrator, rep_a):
    client.force_login(integrator)

    for url in (
        reverse("coaching:team_dashboard"),
        reverse("coaching:executive_rollup"),
        reverse("coaching:rep_coaching", args=[rep_a.pk]),
        reverse("coaching:review_list"),
    ):
        assert client.get(url).status_code == 403


def test_rep_coaching_is_404_outside_visibility(client, rep_a, rep_b, manager_a, manager_b):
    url = reverse("coaching:rep_coaching", args=[rep_a.pk])
    for viewer, status in ((rep_a, 200), (manager_a, 200), (rep_b, 404), (manager_b, 404)):
        client.force_login(viewer)
        assert client.get(url).status_code == status, viewer


def test_review_is_404_outside_visibility(client, review_a, rep_a, manager_a, rep_b, executive):
    url = reverse("coaching:review_detail", args=[review_a.pk])
    for viewer, status in ((rep_a, 200), (manager_a, 200), (executive, 200), (rep_b, 404)):
        client.force_login(viewer)
        assert client.get(url).status_code == status, viewer


def test_team_dashboard_shows_only_the_managers_team(client, period, manager_a, rep_a, rep_b):
    client.force_login(manager_a)

    response = client.get(reverse("coaching:team_dashboard"))

    names = [str(row.person) for row in response.context["dashboard"].rows]
    assert str(rep_a) in names
    assert str(rep_b) not in names
    assert client.get(reverse("coaching:team_dashboard"), {"person": rep_b.pk}).status_code == 404


def test_debriefs_are_seen_by_the_rep_and_the_manager_only(client, rep_a, manager_a, rep_b):
    CallDebriefFactory(rep=rep_a, went_well="Strong opening")
    for viewer, seen in ((rep_a, True), (manager_a, True), (rep_b, False)):
        client.force_login(viewer)
        assert ("Strong opening" in client.get(reverse("coaching:debrief_list")).text) is seen


# --- forms ----------------------------------------------------------------------------------------


def test_manager_records_a_score_with_htmx_and_validates_the_reps_note(
    client, review_a, deal_a, rep_a, manager_a
):
    criterion = default_template().criteria.get(key="political")
    url = reverse("coaching:score_save", args=[review_a.pk, deal_a.pk, criterion.pk])
    client.force_login(rep_a)
    response = client.post(
        url, {"rating": "4", "note": "CFO is our champion"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Rep&#x27;s note" in response.text or "Rep's note" in response.text
    score = OpportunityScore.objects.get()

    client.force_login(manager_a)
    response = client.post(
        reverse("coaching:score_validate", args=[score.pk]),
        {"review": review_a.pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    score.refresh_from_db()
    assert score.evidence_state == EvidenceState.VALIDATED


def test_rep_cannot_validate_and_gets_a_403_fragment(client, review_a, deal_a, rep_a):
    criterion = default_template().criteria.get(key="financial")
    client.force_login(rep_a)
    client.post(
        reverse("coaching:score_save", args=[review_a.pk, deal_a.pk, criterion.pk]),
        {"rating": "3", "note": "Budget in Q1"},
    )
    score = OpportunityScore.objects.get()

    response = client.post(
        reverse("coaching:score_validate", args=[score.pk]),
        {"review": review_a.pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 403
    score.refresh_from_db()
    assert score.evidence_state == EvidenceState.REP_NOTE


def test_start_a_review_and_add_an_action_item(client, deal_a, rep_a, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("coaching:review_create"),
        {"account": deal_a.account_id, "held_on": "2026-11-23", "attendees": [rep_a.pk]},
    )
    assert response.status_code == 302
    review = deal_a.account.reviews.get()

    response = client.post(
        reverse("coaching:action_item_add", args=[review.pk]),
        {"description": "Book the CFO meeting", "owner": rep_a.pk, "due_on": "2026-12-01"},
    )

    assert response.status_code == 302
    assert ActionItem.objects.get().owner == rep_a
    assert "Book the CFO meeting" in client.get(response.url).text


def test_a_manager_records_a_debrief_from_the_page(client, rep_a, manager_a):
    client.force_login(manager_a)

    response = client.post(
        reverse("coaching:debrief_list"),
        {"rep": rep_a.pk, "held_on": "2026-11-20", "went_well": "Agenda", "to_improve": "Pace"},
    )

    assert response.status_code == 302
    assert CallDebrief.objects.get().manager == manager_a


def test_a_rep_cannot_post_a_debrief(client, rep_a, se_a):
    client.force_login(rep_a)

    response = client.post(
        reverse("coaching:debrief_list"),
        {"rep": se_a.pk, "held_on": "2026-11-20", "went_well": "x", "to_improve": "y"},
    )

    assert response.status_code == 400
    assert not CallDebrief.objects.exists()


# --- query budgets: the same bound for a small and a large team ------------------------------

# Team dashboard: session, user, period, quarters for the picker, members, attainment
# (the precomputed figures), rollups, KPIs, flags, compliance (the precomputed summaries).
# ...and the bell's unread count (1).
TEAM_DASHBOARD_QUERIES = 11
# Executive rollup: session, user, period, quarters for the picker, whether the viewer has
# reports; per root: people, rollups, calls, calls of record, attainment (the precomputed
# figures), who has reports.
# ...and the bell's unread count (1).
EXECUTIVE_ROLLUP_QUERIES = 12
# Coaching view: session, user, the person, quarters, KPI rows, default process, its stages
# and milestones, agenda deals, compliance (3), debriefs (+skills), plans, skill ratings.
# ...and the bell's unread count (1).
REP_COACHING_QUERIES = 18
# Review page: session, user, review (+attendees), deals, criteria, stages, milestones,
# completion records, scores, competitors, proofs, negotiation items, buying groups (captured
# participants), contacts, action items, earlier notes.
# ...and the bell's unread count (1).
REVIEW_QUERIES = 18


@pytest.mark.parametrize("size", [2, 12])
def test_team_dashboard_query_budget(
    client, django_assert_max_num_queries, period, manager_a, size
):
    team(manager_a, size, period=period)
    attainment_refresh(period=period)  # as the worker keeps it
    compliance_refresh()
    client.force_login(manager_a)

    with django_assert_max_num_queries(TEAM_DASHBOARD_QUERIES):
        response = client.get(reverse("coaching:team_dashboard"))

    assert len(response.context["dashboard"].rows) == size


@pytest.mark.parametrize("size", [2, 12])
def test_executive_rollup_query_budget(
    client, django_assert_max_num_queries, period, executive, manager_a, size
):
    for _ in range(size):
        team(UserFactory(manager=executive, role="manager"), 1, period=period)
    attainment_refresh(period=period)  # as the worker keeps it
    client.force_login(executive)

    with django_assert_max_num_queries(EXECUTIVE_ROLLUP_QUERIES):
        response = client.get(reverse("coaching:executive_rollup"))

    assert len(response.context["trees"][0][1]) == size + 1


@pytest.mark.parametrize("size", [2, 12])
def test_rep_coaching_query_budget(
    client, django_assert_max_num_queries, process, period, manager_a, rep_a, size
):
    team(manager_a, size, period=period)
    kpi(rep_a, period, stage_conversion={"1": 0.1, "2": 0.1}, days_in_stage={"1": 50})
    for _ in range(size):
        OpportunityFactory(owner=rep_a)
        CallDebriefFactory(rep=rep_a)
    client.force_login(manager_a)

    with django_assert_max_num_queries(REP_COACHING_QUERIES):
        response = client.get(reverse("coaching:rep_coaching", args=[rep_a.pk]))

    assert response.context["data"].agenda


@pytest.mark.parametrize("size", [2, 12])
def test_review_page_query_budget(
    client, django_assert_max_num_queries, review_a, deal_a, rep_a, manager_a, size
):
    for _ in range(size):
        OpportunityFactory(owner=rep_a, account=deal_a.account)
    client.force_login(manager_a)

    with django_assert_max_num_queries(REVIEW_QUERIES):
        response = client.get(reverse("coaching:review_detail", args=[review_a.pk]))

    assert len(response.context["page"].deals) == size + 1


def test_junk_and_huge_ids_are_404_never_500(client, manager_a, review_a):
    client.force_login(manager_a)
    huge = 10**30

    assert client.get(f"/coaching/reps/{huge}/").status_code == 404
    assert client.get(f"/coaching/reviews/{huge}/").status_code == 404
    assert client.post(f"/coaching/scores/{huge}/validate/", {"review": "x"}).status_code == 404
    created = client.post(reverse("coaching:review_create"), {"account": huge, "held_on": "x"})
    assert created.status_code == 404
    assert client.get(reverse("coaching:team_dashboard"), {"person": "abc"}).status_code == 200


def test_rep_asks_for_help_and_the_manager_sees_the_criteria_and_declines(
    client, deal_a, rep_a, manager_a
):
    client.force_login(rep_a)
    page = client.get(reverse("coaching:request_list"), {"opportunity": deal_a.pk})
    assert page.context["form"] is not None
    asked = client.post(
        reverse("coaching:request_create"), {"opportunity": deal_a.pk, "kind": "demo"}
    )
    assert asked.status_code == 302
    request = ResourceRequest.objects.get()

    client.force_login(manager_a)
    listed = client.get(reverse("coaching:request_list"))
    assert "Deal size" in listed.text
    assert "Qualification score %" in listed.text
    no_reason = client.post(
        reverse("coaching:request_decide", args=[request.pk]), {"decision": "decline"}
    )
    assert no_reason.status_code == 400
    declined = client.post(
        reverse("coaching:request_decide", args=[request.pk]),
        {"decision": "decline", "note": "Qualify the budget first"},
    )

    assert declined.status_code == 302
    request.refresh_from_db()
    assert request.status == ResourceRequest.Status.DECLINED


def test_development_plan_pages(client, rep_a, manager_a, rep_b):
    client.force_login(manager_a)
    created = client.post(
        reverse("coaching:plan_list"),
        {"rep": rep_a.pk, "title": "Discovery", "assessed_needs": "Skips pain questions"},
    )
    plan = DevelopmentPlan.objects.get()
    assert created.url == reverse("coaching:plan_detail", args=[plan.pk])
    client.post(
        reverse("coaching:goal_add", args=[plan.pk]),
        {"description": "Five pain questions per call", "target_on": "2026-12-31"},
    )
    goal = plan.goals.get()

    client.force_login(rep_a)
    client.post(
        reverse("coaching:plan_action_add", args=[goal.pk]),
        {"description": "Shadow a top rep", "due_on": "2026-12-10"},
    )
    action = goal.actions.get()
    client.post(reverse("coaching:plan_action_done", args=[action.pk]))
    action.refresh_from_db()
    assert action.done_on is not None
    assert "Shadow a top rep" in client.get(created.url).text

    client.force_login(rep_b)
    assert client.get(created.url).status_code == 404


# Lists: session, user, then the rows. Debriefs: the viewer's reports, the ids of the people
# they see and their open deals and the skill list (for the form), rows, their skills.
# Requests: rows, policies, exchange rates, templates, criteria, scores; the criteria table's
# policies, the viewer's capacity and booked weeks (3). Ramp: rows.
# ...and the bell's unread count (1).
LIST_QUERIES = {"debrief_list": 9, "request_list": 13, "ramp": 4}


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize("page", sorted(LIST_QUERIES))
def test_list_pages_query_budget(
    client, django_assert_max_num_queries, process, period, manager_a, page, size
):
    for rep in team(manager_a, size, period=period):
        CallDebriefFactory(rep=rep)
        ResourceRequestFactory(opportunity=OpportunityFactory(owner=rep))
        kpi(rep, period, hire_cohort="2025Q1", days_to_first_win=60)
    client.force_login(manager_a)

    with django_assert_max_num_queries(LIST_QUERIES[page]):
        response = client.get(reverse(f"coaching:{page}"))

    assert response.status_code == 200


def test_action_item_done_ignores_a_next_that_is_not_a_path(client, review_a, rep_a):
    # A bare word reached redirect() as a URL name: NoReverseMatch, a 500 (bad-input sweep).
    item = ActionItem.objects.create(
        review=review_a, description="Call the CFO", owner=rep_a, due_on=dt.date(2026, 12, 1)
    )
    client.force_login(rep_a)

    response = client.post(reverse("coaching:action_item_done", args=[item.pk]), {"next": "x"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("coaching:review_detail", args=[review_a.pk]))
