"""manage.py verify_figures: silent and 0 when figures agree; names an injected difference."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services as deal_services
from accounts.models import Activity, Milestone, Opportunity, OpportunityChange
from coaching.models import ComplianceSummary
from coaching.services import compliance_refresh
from compensation.models import Plan, PlanAssignment, Statement
from compensation.services import payout_run_compute
from forecasting.models import DealProbability, ForecastRollup, InspectionFlag, Scope
from forecasting.services.flags import flags_refresh
from salesmgmt.models import Period
from salesmgmt.services import periods_ensure
from territories.models import AttainmentFigure
from tests.factories import complete_closing_milestones
from tests.reconciliation.refresh import refresh_everything


def verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_figures", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def book(rep_a, rep_b, se_a, manager_a, process):
    """Two open deals of rep_a and one won this quarter, refreshed by the product."""
    today = timezone.localdate()
    periods_ensure(year=today.year)
    account = deal_services.account_create(actor=rep_a, name="Acme", owner=rep_a)
    open_ids = [
        deal_services.opportunity_create(
            actor=rep_a,
            account=account,
            name=f"Open {n}",
            amount=Decimal(amount),
            expected_close_on=today + dt.timedelta(days=1),
        ).pk
        for n, amount in ((1, "1000"), (2, "2500"))
    ]
    won = deal_services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Won",
        amount=Decimal("4000"),
        expected_close_on=today,
    )
    complete_closing_milestones(won)
    deal_services.opportunity_close_won(actor=rep_a, opportunity=won, closed_on=today)
    refresh_everything()
    quarter = Period.objects.get(kind=Period.Kind.QUARTER, start_on__lte=today, end_on__gte=today)
    return {"open_ids": open_ids, "won_id": won.pk, "quarter": quarter}


def test_verify_figures_agrees_after_the_refresh(book):
    status, out = verify()
    assert (status, out.strip()) == (0, "0 difference(s).")


def test_verify_figures_names_an_injected_rollup_difference(book, rep_a, manager_a):
    # Given a manager's team commit figure changed by hand
    quarter = book["quarter"]
    ForecastRollup.objects.filter(person=manager_a, period=quarter, scope=Scope.SUBTREE).update(
        pipeline_amount=Decimal("9999.00")
    )
    # When the figures are verified
    status, out = verify()
    # Then it fails and names the person, period, figure, both values and the deals behind it
    assert status == 1
    lines = [line for line in out.splitlines() if "pipeline_amount" in line]
    assert len(lines) == 1
    line = lines[0]
    assert "forecast rollup (subtree)" in line
    assert f"(#{manager_a.pk})" in line
    assert quarter.name in line
    assert "stored 9999.00, expected 3500.00" in line
    for deal_id in book["open_ids"]:
        assert f"deal {deal_id}" in line
    assert "1 difference(s)." in out


def test_verify_figures_names_an_injected_attainment_difference_as_json(book, rep_a):
    quarter = book["quarter"]
    AttainmentFigure.objects.filter(user=rep_a, period=quarter).update(bookings=Decimal("1.00"))
    status, out = verify("--json", "--period", str(quarter.pk))
    assert status == 1
    found = json.loads(out)["differences"]
    assert [
        (d["aggregate"], d["person_id"], d["period_id"], d["figure"], d["stored"], d["expected"])
        for d in found
    ] == [("attainment", rep_a.pk, quarter.pk, "bookings", "1.00", "4000.00")]
    assert found[0]["records"] == [f"deal {book['won_id']}"]


def test_verify_figures_filters_by_person_and_tolerance(book, rep_a, rep_b):
    quarter = book["quarter"]
    ForecastRollup.objects.filter(person=rep_a, period=quarter, scope=Scope.OWN).update(
        commit_amount=Decimal("0.50")
    )
    # Someone else's figures: nothing to report
    assert verify("--person", rep_b.username)[0] == 0
    # Within a generous tolerance: nothing either
    assert verify("--person", str(rep_a.pk), "--tolerance", "1")[0] == 0
    status, out = verify("--person", rep_a.username)
    assert status == 1
    assert "commit_amount: stored 0.50, expected 0.00" in out


def test_verify_figures_reports_a_missing_deal_probability(book):
    DealProbability.objects.filter(opportunity_id=book["open_ids"][0]).delete()
    status, out = verify("--only", "rollups")
    assert status == 1
    assert "deal probability | " in out
    assert f"row: stored None, expected a row | from deal {book['open_ids'][0]}" in out


def test_verify_figures_checks_draft_statement_bookings(book, rep_a):
    plan = Plan.objects.create(name="Reps")
    PlanAssignment.objects.create(plan=plan, role="rep", effective_from=dt.date(2000, 1, 1))
    payout_run_compute(period=book["quarter"])
    assert verify("--only", "statements")[0] == 0
    Statement.objects.filter(rep=rep_a).update(bookings_amount=Decimal("3999.00"))
    status, out = verify("--only", "statements")
    assert status == 1
    assert "statement (draft run)" in out
    assert "bookings_amount: stored 3999.00, expected 4000.00" in out
    assert f"deal {book['won_id']}" in out


def test_verify_figures_rebuilds_the_stored_flags(book):
    # The book's open deals have no activity and no contact: the product raised flags
    stored = set(InspectionFlag.objects.values_list("opportunity_id", "kind"))
    assert {(pk, "no_activity") for pk in book["open_ids"]} <= stored
    assert {(pk, "no_decision_maker") for pk in book["open_ids"]} <= stored
    assert verify("--only", "flags") == (0, "0 difference(s).\n")


def test_verify_figures_names_a_deleted_flag(book, rep_a):
    deal_id = book["open_ids"][0]
    InspectionFlag.objects.filter(opportunity_id=deal_id, kind="no_activity").delete()
    status, out = verify("--only", "flags")
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0].startswith(f"inspection flags | {rep_a.get_full_name()} (#{rep_a.pk}) | - |")
    assert "no_activity: stored missing, expected no two-way contact in 14 days" in lines[0]
    assert f"from deal {deal_id}, no two-way contact since " in lines[0]
    assert lines[1] == "1 difference(s)."


def test_verify_figures_names_a_bogus_flag(book, rep_a):
    deal_id = book["open_ids"][1]  # closes tomorrow
    computed_at = InspectionFlag.objects.values_list("computed_at", flat=True).first()
    InspectionFlag.objects.create(
        opportunity_id=deal_id,
        owner=rep_a,
        kind="close_date_past",
        detail="close date passed",
        computed_at=computed_at,
    )
    status, out = verify("--only", "flags")
    assert status == 1
    assert (
        f"inspection flags | {rep_a.get_full_name()} (#{rep_a.pk}) | - | close_date_past: "
        f"stored close date passed, expected no flag | from deal {deal_id}, the rule does not hold"
    ) in out
    assert "1 difference(s)." in out


def test_verify_figures_names_the_pushes_behind_a_stale_flag(book, rep_a):
    # Two pushes of the close date after the last refresh: the flag is missing
    deal = Opportunity.objects.get(pk=book["open_ids"][0])
    first = deal.expected_close_on
    for days in (10, 20):
        deal_services.opportunity_update(
            actor=rep_a, opportunity=deal, expected_close_on=first + dt.timedelta(days=days)
        )
        deal.refresh_from_db()
    status, out = verify("--only", "flags")
    assert status == 1
    line = next(line for line in out.splitlines() if "pushed_twice" in line)
    assert "pushed_twice: stored missing, expected 2 pushes" in line
    assert f"close date {first} -> {first + dt.timedelta(days=10)}" in line
    assert f"close date {first + dt.timedelta(days=10)} -> {first + dt.timedelta(days=20)}" in line
    # The product's refresh raises it: no difference left
    flags_refresh()
    assert verify("--only", "flags")[0] == 0


def test_verify_figures_checks_flags_as_of_their_computation(book, rep_a):
    # A call answered five days ago is recent now, not 30 days from now; the close date passes
    deal_services.activity_log(
        actor=rep_a,
        kind="call",
        outcome="connected",
        opportunity=Opportunity.objects.get(pk=book["open_ids"][0]),
        occurred_at=timezone.now() - dt.timedelta(days=5),
    )
    flags_refresh()
    assert not InspectionFlag.objects.filter(opportunity_id=book["open_ids"][0], kind="no_activity")
    assert verify("--only", "flags")[0] == 0
    later = timezone.now() + dt.timedelta(days=30)
    flags_refresh(now=later)
    stored = set(InspectionFlag.objects.values_list("opportunity_id", "kind"))
    assert (book["open_ids"][0], "no_activity") in stored
    assert {(pk, "close_date_past") for pk in book["open_ids"]} <= stored
    # Rebuilt as of the stored computed_at, not the clock: they agree
    assert verify("--only", "flags")[0] == 0
    # Flags from two different refreshes are named
    InspectionFlag.objects.filter(kind="no_activity").update(computed_at=timezone.now())
    status, out = verify("--only", "flags")
    assert status == 1
    assert "computed_at: stored " in out
    assert "expected one refresh time" in out


@pytest.mark.parametrize(
    "figures",
    [
        ("open_deal_count",),
        # passing_count cannot exceed open_deal_count (a check constraint): both edited
        ("open_deal_count", "passing_count"),
        ("failing_next_step",),
        ("failing_evidence",),
        ("failing_recent_activity",),
        ("failing_close_date",),
        ("missing_evidence_count",),
    ],
)
def test_verify_figures_names_an_edited_compliance_count(book, rep_a, figures):
    assert verify("--only", "compliance")[0] == 0
    summary = ComplianceSummary.objects.get(user=rep_a)
    stored = {figure: getattr(summary, figure) for figure in figures}
    ComplianceSummary.objects.filter(pk=summary.pk).update(
        **{figure: value + 7 for figure, value in stored.items()}
    )
    status, out = verify("--only", "compliance")
    assert status == 1
    lines = out.splitlines()
    assert lines[-1] == f"{len(figures)} difference(s)."
    for line, (figure, value) in zip(lines, stored.items(), strict=False):
        assert line.startswith(f"compliance summary | {rep_a.get_full_name()} (#{rep_a.pk}) | - |")
        assert f"{figure}: stored {value + 7}, expected {value} |" in line


def test_verify_figures_names_the_deals_failing_activity_and_evidence(book, rep_a, process):
    # Both open deals had no activity: failing recent activity, and none pass
    summary = ComplianceSummary.objects.get(user=rep_a)
    assert (summary.open_deal_count, summary.failing_recent_activity) == (2, 2)
    assert summary.passing_count == 0
    first, second = book["open_ids"]
    # A call on the first deal and a milestone completed without evidence on the second,
    # not yet in the stored summary (no refresh has run)
    deal_services.activity_log(
        actor=rep_a, kind="call", opportunity=Opportunity.objects.get(pk=first)
    )
    milestone = Milestone.objects.filter(stage__process=process, evidence_required=False).first()
    record = deal_services.milestone_complete(
        actor=rep_a, opportunity=Opportunity.objects.get(pk=second), milestone=milestone
    )
    status, out = verify("--only", "compliance")
    assert status == 1
    assert f"failing_recent_activity: stored 2, expected 1 | from deal {second} |" in out, out
    assert f"failing_evidence: stored 0, expected 1 | from deal {second} |" in out
    assert (
        f"missing_evidence_count: stored 0, expected 1 | from milestone record {record.pk} |" in out
    )
    # The product's refresh agrees with the rebuilt figures
    compliance_refresh()
    assert verify("--only", "compliance")[0] == 0
    assert ComplianceSummary.objects.get(user=rep_a).failing_evidence == 1


def test_verify_figures_counts_an_activity_once_held_as_the_summary_does(book, rep_a):
    """A meeting later today is no activity yet for the stored summary (``held``); the
    rebuilt figure agrees (make load found one such difference in every run)."""
    first = book["open_ids"][0]
    meeting = deal_services.activity_log(
        actor=rep_a, kind="meeting", opportunity=Opportunity.objects.get(pk=first)
    )
    Activity.objects.filter(pk=meeting.pk).update(
        occurred_at=timezone.now() + dt.timedelta(seconds=30)
    )
    compliance_refresh()

    assert ComplianceSummary.objects.get(user=rep_a).failing_recent_activity == 2
    status, out = verify("--only", "compliance")
    assert status == 0, out


def test_verify_figures_names_the_milestone_behind_a_skipped_stage(book, rep_a, process):
    # A milestone of the last stage completed while the deal is in an earlier one
    deal = Opportunity.objects.get(pk=book["open_ids"][0])
    last = Milestone.objects.filter(stage__process=process).order_by("-stage__order").first()
    assert last.stage.order > deal.stage.order
    record = deal_services.milestone_complete(
        actor=rep_a, opportunity=deal, milestone=last, evidence="signed"
    )
    flags_refresh()
    assert InspectionFlag.objects.filter(opportunity=deal, kind="milestone_skipped").exists()
    assert verify("--only", "flags")[0] == 0
    InspectionFlag.objects.filter(opportunity=deal, kind="milestone_skipped").delete()
    status, out = verify("--only", "flags")
    assert status == 1
    line = next(line for line in out.splitlines() if "milestone_skipped" in line)
    assert f"milestone {last.pk} of stage order {last.stage.order} completed" in line
    assert f"(record {record.pk}, " in line


def test_verify_figures_names_a_late_amount_change(book, rep_a):
    # The amount of a deal closing this quarter moves by more than 20 %
    deal = Opportunity.objects.get(pk=book["open_ids"][1])
    deal_services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal("5000"))
    change = OpportunityChange.objects.filter(opportunity=deal, field="amount")
    end = dt.datetime.combine(book["quarter"].end_on, dt.time.min, dt.UTC)
    # ... a day before its quarter's last 30 days: no flag; on their first day: a flag
    for days, flagged in ((31, False), (30, True)):
        change.update(changed_at=end - dt.timedelta(days=days))
        flags_refresh()
        raised = InspectionFlag.objects.filter(opportunity=deal, kind="late_amount_change")
        assert raised.exists() == flagged
        assert verify("--only", "flags")[0] == 0
    raised.update(detail="edited")
    status, out = verify("--only", "flags")
    assert status == 1
    assert (
        "late_amount_change detail: stored edited, expected amount moved > 20% near period end"
    ) in out
    assert "amount 2500.00 -> 5000.00 on " in out


def test_verify_figures_names_activities_whose_deal_owner_copy_is_stale(
    book, rep_a, rep_b, executive
):
    # Calls logged through the service carry their deal's owner (Activity.deal_owner)
    first, second = (Opportunity.objects.get(pk=pk) for pk in book["open_ids"])
    calls = [
        deal_services.activity_log(actor=rep_a, kind="call", opportunity=deal)
        for deal in (first, first, second)
    ]
    note = deal_services.activity_log(actor=rep_a, kind="email", account=first.account)
    assert verify("--only", "activities") == (0, "0 difference(s).\n")
    # A reassignment outside the services (raw SQL, a bulk load) leaves the copies behind,
    # as does a copy written on an activity without a deal
    Opportunity.objects.filter(pk=first.pk).update(owner=rep_b)
    Activity.objects.filter(pk=note.pk).update(deal_owner=rep_a)

    status, out = verify("--only", "activities")

    assert status == 1
    lines = out.splitlines()
    assert lines == [
        f"activity deal owner | {rep_b.get_full_name()} (#{rep_b.pk}) | - | deal_owner: stored "
        f"{rep_a.get_full_name()} (#{rep_a.pk}), expected {rep_b.get_full_name()} (#{rep_b.pk})"
        f" | from activity {calls[0].pk}, activity {calls[1].pk} | deal {first.pk}",
        f"activity deal owner | company | - | deal_owner: stored {rep_a.get_full_name()}"
        f" (#{rep_a.pk}), expected None | from activity {note.pk} | no deal",
        "2 difference(s).",
    ]
    # --person narrows it to the deal's owner; a run of every check includes it
    assert verify("--only", "activities", "--person", str(rep_b.pk))[1].endswith(
        "1 difference(s).\n"
    )
    assert f"| from activity {note.pk} | no deal\n" in verify()[1]
    # Written through the service again, the copy agrees
    deal_services.opportunity_update(actor=executive, opportunity=first, owner=rep_a)
    Activity.objects.filter(pk=note.pk).update(deal_owner=None)
    assert verify("--only", "activities") == (0, "0 difference(s).\n")
