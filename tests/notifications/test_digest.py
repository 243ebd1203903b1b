"""The weekly digest's content (notifications.digest): a manager's team, a rep's own week,
links to each record, the manager's subtree only, a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import MilestoneCompletion
from forecasting.models import (
    CallLayer,
    Category,
    FlagKind,
    ForecastCall,
    InspectionFlag,
    OpportunitySnapshot,
)
from notifications.digest import digest_render, weekly_digest
from salesmgmt.models import Role, SalesRole
from territories.models import AttainmentFigure
from tests.factories import (
    AccountFactory,
    MilestoneCompletionFactory,
    OpportunityFactory,
    UserFactory,
)

SITE = "https://sales.example.com"
WEEK_ENDING = dt.date(2026, 5, 18)  # a Monday in FY2026 Q2
THIS_WEEK = dt.date(2026, 5, 18)  # the weekly snapshot, Monday 05:00
LAST_WEEK = dt.date(2026, 5, 11)
CLOSES = dt.date(2026, 6, 19)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def q2(periods):
    return periods["FY2026 Q2"]


@pytest.fixture
def org(executive, process):
    """Maria's team (Dana and Sam) and Lee in another team, with their figures."""
    maria = UserFactory(
        username="maria.lopez", first_name="Maria", last_name="Lopez", role=Role.MANAGER,
        manager=executive, email="maria.lopez@example.com",
    )  # fmt: skip
    dana, sam = (
        UserFactory(username=f"{first.lower()}.{last.lower()}", first_name=first,
                    last_name=last, manager=maria, sales_role=SalesRole.AE)
        for first, last in [("Dana", "Reyes"), ("Sam", "Okafor")]
    )  # fmt: skip
    # A fixed name: missing calls are listed by name, after "Lee Chen" (Faker's would vary).
    other_manager = UserFactory(
        username="olu", first_name="Olu", last_name="Okoro", role=Role.MANAGER, manager=executive
    )
    lee = UserFactory(username="lee.chen", first_name="Lee", last_name="Chen",
                      manager=other_manager)  # fmt: skip
    return {"maria": maria, "dana": dana, "sam": sam, "lee": lee, "olu": other_manager}


def deal(owner, name, account, amount, **kwargs):
    return OpportunityFactory(
        owner=owner,
        name=name,
        account=AccountFactory(owner=owner, name=account),
        amount=Decimal(amount),
        expected_close_on=CLOSES,
        **kwargs,
    )


def snapshot(opportunity, taken_on, category, amount):
    OpportunitySnapshot.objects.create(
        opportunity=opportunity,
        taken_on=taken_on,
        owner=opportunity.owner,
        amount=Decimal(amount),
        expected_close_on=CLOSES,
        category=category,
        probability=0.5,
    )


def figure(period, user, bookings, quota):
    AttainmentFigure.objects.create(
        period=period, user=user, bookings=Decimal(bookings), quota=Decimal(quota),
        ramped_quota=Decimal(quota), computed_at=timezone.now(),
    )  # fmt: skip


def call(person, period, day, commit):
    ForecastCall.objects.create(
        person=person, period=period, layer=CallLayer.OWNER, commit_amount=Decimal(commit),
        best_case_amount=Decimal(commit) * 2, submitted_by=person, submitted_at=at(day),
    )  # fmt: skip


@pytest.fixture
def week(org, q2, process):
    """A week shaped like a real one: a deal pushed twice, a stale one, a missing call, a
    milestone waiting, a rejected one; and the same in another team that Maria must not see."""
    maria, dana, sam, lee = org["maria"], org["dana"], org["sam"], org["lee"]
    acme = deal(dana, "Acme renewal", "Acme Corp", "48000")
    initech = deal(dana, "Initech pilot", "Initech", "12000")
    globex = deal(sam, "Globex expansion", "Globex", "30000")
    umbrella = deal(lee, "Umbrella rollout", "Umbrella", "99000")
    # forecast snapshots: Acme moved from best case to commit; Globex is new this week
    snapshot(acme, LAST_WEEK, Category.BEST_CASE, "40000")
    snapshot(acme, THIS_WEEK, Category.COMMIT, "48000")
    snapshot(initech, LAST_WEEK, Category.PIPELINE, "12000")
    snapshot(initech, THIS_WEEK, Category.PIPELINE, "12000")
    snapshot(globex, THIS_WEEK, Category.BEST_CASE, "30000")
    snapshot(umbrella, LAST_WEEK, Category.COMMIT, "99000")
    snapshot(umbrella, THIS_WEEK, Category.COMMIT, "1000")
    # attainment as last refreshed (the company row marks the period refreshed)
    figure(q2, None, "500000", "2000000")
    figure(q2, maria, "90000", "300000")
    figure(q2, dana, "60000", "150000")
    figure(q2, sam, "30000", "150000")
    figure(q2, lee, "77000", "100000")
    # inspection flags (the nightly job's rows)
    flags = [
        (acme, FlagKind.PUSHED_TWICE, "Pushed 2 times"),
        (acme, FlagKind.CLOSE_DATE_PAST, ""),
        (initech, FlagKind.MILESTONE_SKIPPED, ""),  # not a digest flag
        (globex, FlagKind.NO_ACTIVITY, "Last activity 21 days ago"),
        (umbrella, FlagKind.PUSHED_TWICE, ""),
    ]
    for opportunity, kind, detail in flags:
        InspectionFlag.objects.create(
            opportunity=opportunity, owner=opportunity.owner, kind=kind, detail=detail
        )
    # calls: Dana and Maria called this week, Sam only two weeks ago, Lee never
    call(dana, q2, dt.date(2026, 5, 15), "50000")
    call(maria, q2, dt.date(2026, 5, 16), "120000")
    call(sam, q2, dt.date(2026, 5, 4), "20000")
    # milestones: Sam's evidence waits for Maria; Dana's was rejected this week; Lee's waits
    # for his own manager
    milestone = process.stages.order_by("order").first().milestones.first()
    pending = MilestoneCompletion.Verification.PENDING
    MilestoneCompletionFactory(opportunity=globex, milestone=milestone, verification_state=pending)
    MilestoneCompletionFactory(
        opportunity=umbrella, milestone=milestone, verification_state=pending
    )
    MilestoneCompletionFactory(
        opportunity=acme, milestone=milestone,
        verification_state=MilestoneCompletion.Verification.REJECTED, verified_by=maria,
        verified_at=at(dt.date(2026, 5, 14)), rejection_reason="No signed mutual plan attached",
    )  # fmt: skip
    return {"acme": acme, "globex": globex, "umbrella": umbrella, "initech": initech}


def test_the_managers_digest_covers_the_team(org, week, q2):
    maria, dana, sam = org["maria"], org["dana"], org["sam"]

    digest = weekly_digest(person=maria, week_ending=WEEK_ENDING)

    assert digest.is_manager
    assert digest.period == q2
    assert digest.week_start == dt.date(2026, 5, 12)
    # attainment: the team's (Maria's subtree) and each direct report's
    assert (digest.attainment.bookings, digest.attainment.quota) == (
        Decimal(90000),
        Decimal(300000),
    )
    assert digest.attainment.percent == Decimal("30.0")
    assert [(line.name, line.percent) for line in digest.team_attainment] == [
        ("Sam Okafor", Decimal("20.0")),
        ("Dana Reyes", Decimal("40.0")),
    ]
    assert digest.team_attainment[1].url == f"{SITE}/forecast/?person={dana.pk}&period={q2.pk}"
    # forecast change, team only: Acme 40k best case -> 48k commit, Globex new at 30k
    change = digest.forecast_change
    assert (change.taken_on, change.previous_taken_on) == (THIS_WEEK, LAST_WEEK)
    assert (change.commit_amount, change.commit_change) == (Decimal(48000), Decimal(48000))
    assert (change.best_case_amount, change.best_case_change) == (Decimal(30000), Decimal(-10000))
    assert (change.pipeline_amount, change.pipeline_change) == (Decimal(12000), Decimal(0))
    # flagged deals: Acme (two flags) and Globex; not Initech's skipped milestone, not Lee's
    assert [(d.name, d.owner, d.flags) for d in digest.flagged_deals] == [
        ("Acme renewal", "Dana Reyes", ("Close date in the past", "Close date pushed 2+ times")),
        ("Globex expansion", "Sam Okafor", ("No two-way contact in 14 days",)),
    ]
    assert digest.flagged_deal_count == 2
    assert digest.flagged_deals[0].url == f"{SITE}/opportunities/{week['acme'].pk}/"
    # calls: Sam's last call is two weeks old
    assert [c.name for c in digest.missing_calls] == ["Sam Okafor"]
    assert digest.missing_calls[0].url == f"{SITE}/forecast/?person={sam.pk}&period={q2.pk}"
    # verifications: Sam's evidence on Globex (Lee's is his manager's)
    assert [(v.deal, v.person) for v in digest.verifications_waiting] == [
        ("Globex expansion", "Sam Okafor")
    ]
    assert digest.verifications_waiting[0].url == f"{SITE}/opportunities/{week['globex'].pk}/"
    assert digest.has_news


def test_the_reps_digest_covers_their_own_week(org, week, q2):
    dana = org["dana"]

    digest = weekly_digest(person=dana, week_ending=WEEK_ENDING)

    assert not digest.is_manager
    assert (digest.attainment.bookings, digest.attainment.percent) == (
        Decimal(60000),
        Decimal("40.0"),
    )
    assert digest.team_attainment == []
    assert digest.forecast_change.commit_change == Decimal(48000)
    assert digest.forecast_change.best_case_change == Decimal(-40000)
    assert [d.name for d in digest.flagged_deals] == ["Acme renewal"]
    assert digest.missing_calls == []  # called on Friday
    assert [(m.deal, m.state, m.person, m.reason) for m in digest.milestone_outcomes] == [
        ("Acme renewal", "rejected", "Maria Lopez", "No signed mutual plan attached")
    ]
    assert digest.verifications_waiting == []


def test_a_rep_without_a_call_this_week_is_told_theirs_is_due(org, week, q2):
    sam = org["sam"]

    digest = weekly_digest(person=sam, week_ending=WEEK_ENDING)

    assert [(c.name, c.url) for c in digest.missing_calls] == [
        ("Sam Okafor", f"{SITE}/forecast/?person={sam.pk}&period={q2.pk}")
    ]
    assert digest.milestone_outcomes == []


def test_a_manager_sees_only_their_subtree(org, week):
    olu = org["olu"]

    digest = weekly_digest(person=olu, week_ending=WEEK_ENDING)

    assert [d.name for d in digest.flagged_deals] == ["Umbrella rollout"]
    assert [c.name for c in digest.missing_calls] == ["Lee Chen", str(olu)]
    assert digest.forecast_change.commit_change == Decimal(-98000)
    assert [v.deal for v in digest.verifications_waiting] == ["Umbrella rollout"]
    assert [line.name for line in digest.team_attainment] == ["Lee Chen"]


def test_a_week_without_a_period_or_snapshots_still_builds(org):
    digest = weekly_digest(person=org["maria"], week_ending=WEEK_ENDING)

    assert digest.period is None
    assert digest.attainment is None
    assert digest.forecast_change is None
    assert digest.flagged_deals == []
    assert not digest.has_news
    rendered = digest_render(digest)
    assert "None." in rendered.text


def test_the_email_has_both_parts_with_the_same_links(org, week):
    rendered = digest_render(weekly_digest(person=org["maria"], week_ending=WEEK_ENDING))

    assert rendered.subject == "Your team's week to 18 May 2026: salesmgmt digest"
    acme = f"{SITE}/opportunities/{week['acme'].pk}/"
    for part in (rendered.text, rendered.html):
        assert acme in part
        assert "Sam Okafor" in part
        assert "Close date pushed 2+ times" in part
        assert "48,000" in part
        assert "Umbrella" not in part  # another team's deal
    assert f'<a href="{acme}">Acme renewal</a>' in rendered.html
    assert "<" not in rendered.text.replace("<-", "")  # plain text, no markup
    assert "CALLS MISSING THIS WEEK (1)" in rendered.text


def test_the_reps_email_gives_the_rejection_reason(org, week):
    rendered = digest_render(weekly_digest(person=org["dana"], week_ending=WEEK_ENDING))

    assert rendered.subject == "Your week to 18 May 2026: salesmgmt digest"
    assert "rejected by Maria Lopez (No signed mutual plan attached)" in rendered.text
    assert "Submitted this week." in rendered.text


def _grow_team(maria, q2, size):
    """``size`` more reps under Maria, each with a flagged deal, a snapshot, a figure, a
    waiting milestone and no call."""
    for index in range(size):
        rep = UserFactory(username=f"extra{index}", manager=maria)
        opportunity = deal(rep, f"Extra {index}", f"Extra Co {index}", "1000")
        snapshot(opportunity, THIS_WEEK, Category.PIPELINE, "1000")
        figure(q2, rep, "100", "1000")
        InspectionFlag.objects.create(
            opportunity=opportunity, owner=rep, kind=FlagKind.STUCK_IN_STAGE
        )
        MilestoneCompletionFactory(
            opportunity=opportunity,
            milestone=opportunity.process.stages.order_by("order").first().milestones.first(),
            verification_state=MilestoneCompletion.Verification.PENDING,
        )


def _queries(person):
    with CaptureQueriesContext(connection) as captured:
        digest_render(weekly_digest(person=person, week_ending=WEEK_ENDING))
    return len(captured)


# company settings (1), period (1), team (1), attainment (1), snapshots 2 x (company
# settings, snapshot day, subtree, sums) (8), calls: owing people and calls (2), flags:
# count and rows (2), verifications (1)
MANAGER_QUERIES = 17
# the same without the team, with the milestone verdicts instead of the verifications
REP_QUERIES = 16


def test_the_digest_reads_a_bounded_number_of_queries(org, week, q2):
    maria, dana = org["maria"], org["dana"]
    small = _queries(maria)
    _grow_team(maria, q2, 12)

    assert _queries(maria) == small == MANAGER_QUERIES
    assert _queries(dana) == REP_QUERIES


def test_the_mailed_digests_links_open_the_record_for_its_reader_only(
    org, week, smtp_server, client
):
    rendered = digest_render(weekly_digest(person=org["maria"], week_ending=WEEK_ENDING))
    message = EmailMultiAlternatives(rendered.subject, rendered.text, to=[org["maria"].email])
    message.attach_alternative(rendered.html, "text/html")
    message.send()

    [mail] = smtp_server.received
    assert mail.recipients == ["maria.lopez@example.com"]
    html = mail.message.get_body(("html",)).get_content()
    links = re.findall(re.escape(SITE) + r"(/opportunities/\d+/)", html)
    assert f"/opportunities/{week['acme'].pk}/" in links
    client.force_login(org["maria"])
    assert {client.get(link).status_code for link in links} == {200}
    client.force_login(org["lee"])
    assert {client.get(link).status_code for link in links} == {404}
