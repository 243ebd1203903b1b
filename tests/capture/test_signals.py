"""What capture changes downstream: the buying group (single-contact flag), two-way contact
(no-activity flag) and documentation compliance, through the existing recompute paths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from capture import services
from capture.parsing import parse_mail
from coaching.models import ComplianceSummary
from forecasting.models import InspectionFlag
from reconciliation.flags import expected_flags
from reconciliation.records import load_book
from salesmgmt import refresh
from tests.capture.scenario import flags_of, raw_mail
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep_a, process):
    """rep_a's one open deal (so it is "large"), at an account with three contacts on file."""
    account = AccountFactory(owner=rep_a, name="Initech", domain="initech.example")
    for name in ("buyer", "cfo", "it"):
        ContactFactory(account=account, email=f"{name}@initech.example")
    return OpportunityFactory(owner=rep_a, account=account, next_step="Send proposal")


def mail(rep, *, sender: str, to: list[str], n: int, ago: int = 1) -> None:
    raw = raw_mail(
        sender=sender,
        to=to,
        subject=f"Initech {n}",
        message_id=f"<s{n}@x>",
        sent=timezone.now() - dt.timedelta(days=ago),
    )
    services.captured_mail_record(owner=rep, mail=parse_mail(raw))


def mirrored(deal) -> set[str]:
    now = InspectionFlag.objects.values_list("computed_at", flat=True).first()
    return {kind for (pk, kind) in expected_flags(load_book(), now) if pk == deal.pk}


def test_buying_group_drives_the_single_contact_flag(rep_a, deal):
    # three contacts on file: not single-threaded by the account's list
    assert "single_contact" not in flags_of(deal)

    # all the captured conversation is with one buyer: the buying group is one person
    mail(rep_a, sender=rep_a.email, to=["buyer@initech.example"], n=1)
    assert flags_of(deal)["single_contact"] == "1 contact(s)"
    assert "single_contact" in mirrored(deal)

    # the CFO answers too: two people engaged
    mail(rep_a, sender="cfo@initech.example", to=[rep_a.email], n=2)
    assert "single_contact" not in flags_of(deal)
    assert "single_contact" not in mirrored(deal)


def test_only_two_way_contact_clears_the_no_activity_flag(rep_a, deal):
    assert "no_activity" in flags_of(deal)

    # a sent email nobody answered does not make the deal current
    mail(rep_a, sender=rep_a.email, to=["buyer@initech.example"], n=1)
    assert "no_activity" in flags_of(deal)
    assert "no_activity" in mirrored(deal)

    # a reply received does
    mail(rep_a, sender="buyer@initech.example", to=[rep_a.email], n=2)
    assert "no_activity" not in flags_of(deal)
    assert "no_activity" not in mirrored(deal)


def test_captured_activity_counts_for_the_reps_compliance(rep_a, deal):
    # the deal's last logged activity is a month old: the recent-activity check fails
    ActivityFactory(
        owner=rep_a,
        account=deal.account,
        opportunity=deal,
        occurred_at=timezone.now() - dt.timedelta(days=30),
    )
    refresh.changed(people=[rep_a.pk], kinds=["compliance"])
    refresh.refresh_kind(kind="compliance")
    before = ComplianceSummary.objects.get(user=rep_a)
    assert before.failing_recent_activity == 1

    # a captured email on the deal marks the rep's compliance stale (refresh path), and the
    # batch counts it
    mail(rep_a, sender="buyer@initech.example", to=[rep_a.email], n=1)
    refresh.refresh_kind(kind="compliance")

    after = ComplianceSummary.objects.get(user=rep_a)
    assert after.failing_recent_activity == 0
    assert after.score > before.score


def test_account_review_shows_each_deals_buying_group(client, rep_a, manager_a, deal):
    from django.urls import reverse

    from tests.coaching.factories import AccountReviewFactory

    review = AccountReviewFactory(account=deal.account, created_by=manager_a)
    client.force_login(manager_a)
    page = client.get(reverse("coaching:review_detail", args=[review.pk]))
    assert page.context["page"].deals[0].buying_group == []

    mail(rep_a, sender="cfo@initech.example", to=[rep_a.email], n=1)
    page = client.get(reverse("coaching:review_detail", args=[review.pk]))

    group = page.context["page"].deals[0].buying_group
    assert [c.email for c in group] == ["cfo@initech.example"]
    assert "cfo@initech.example" not in page.content.decode()  # names shown, not addresses
    assert 'data-testid="buying-group"' in page.content.decode()
