"""accounts.services_bulk: many deals at once, with the history the per-deal services write.

The history of an imported deal must be the one ``opportunity_create``, ``milestone_complete``
and ``opportunity_close_won`` would have written (field by field), dated from the file, so
``opportunities_as_of`` replays it; the rules of those services hold for every row; any bad
row leaves nothing written; the queries do not grow with the rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services
from accounts.models import (
    Account,
    Activity,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityLineItem,
    Product,
)
from accounts.selectors import opportunities_as_of
from accounts.services_bulk import (
    DealRow,
    ImportRowsInvalid,
    opportunity_bulk_import,
    opportunity_bulk_preview,
    opportunity_bulk_problems,
)
from accounts.services_bulk.history import LOGGED_AT_CREATION
from salesmgmt import refresh
from salesmgmt.models import Period
from salesmgmt.services import periods_ensure
from tests.factories import AccountFactory, ActivityFactory, complete_closing_milestones


def at(day: str, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def stage(process, name):
    return process.stages.get(name=name)


def deal_row(account, n=1, **values) -> DealRow:
    defaults = {
        "row": n + 1,
        "name": f"Deal {n}",
        "amount": Decimal("1200.50"),
        "expected_close_on": dt.date(2024, 6, 30),
        "account": account,
        "external_id": f"OPP-{n}",
    }
    return DealRow(**{**defaults, **values})


def history(deal) -> list[tuple[str, str, str]]:
    """(field, old, new) in the order replays read them, ids of stages as names."""
    names = {str(s.pk): s.name for s in deal.process.stages.all()}
    return [
        (c.field, names.get(c.old_value, c.old_value), names.get(c.new_value, c.new_value))
        for c in deal.changes.order_by("changed_at", "id")
    ]


@pytest.fixture
def acme(rep_a):
    return AccountFactory(owner=rep_a, name="Acme")


def test_imported_history_is_the_one_the_per_deal_services_write(rep_a, process, acme, periods):
    # given the same won deal, made once through the per-deal services ...
    by_hand = services.opportunity_create(
        actor=rep_a, account=acme, name="By hand", amount=Decimal("1200.50"),
        expected_close_on=dt.date(2024, 6, 30), at=at("2024-01-10"),
    )  # fmt: skip
    for milestone in [m for s in process.stages.order_by("order")[:3] for m in s.milestones.all()]:
        services.milestone_complete(
            actor=rep_a, opportunity=by_hand, milestone=milestone, evidence="notes",
            at=at("2024-02-01"),
        )  # fmt: skip
    complete_closing_milestones(by_hand)
    services.opportunity_close_won(actor=rep_a, opportunity=by_hand, closed_on=dt.date(2024, 5, 20))
    # ... and once imported
    result = opportunity_bulk_import(
        actor=rep_a,
        rows=[
            deal_row(
                acme, status="won", closed_on=dt.date(2024, 5, 20), created_at=at("2024-01-10")
            )
        ],
    )

    imported = Opportunity.objects.get(pk=result.deal_ids[0])
    by_hand.refresh_from_db()
    # the same rows, less the creation rows of the fields its history never changes ...
    unlogged = {"amount", "currency", "status"}
    assert not unlogged & {str(name) for name in LOGGED_AT_CREATION}
    assert history(imported) == [
        (field, old, new) for field, old, new in history(by_hand) if old or field not in unlogged
    ]
    # ... which both replay alike, when created and now (the milestones between are dated
    # differently: the import spreads them from creation to the close)
    for moment in (at("2024-01-10"), timezone.now()):
        states = opportunities_as_of(at=moment, opportunity_ids=[imported.pk, by_hand.pk])
        assert states[imported.pk] == states[by_hand.pk]
    assert (imported.stage, imported.status) == (stage(process, "Negotiate"), "won")
    assert imported.stage_id == by_hand.stage_id
    assert imported.imported_at is not None
    assert by_hand.imported_at is None


def test_stage_from_the_file_completes_earlier_milestones_as_imported(rep_a, process, acme):
    created, closed = at("2023-03-01", 0), dt.date(2023, 3, 31)

    result = opportunity_bulk_import(
        actor=rep_a,
        rows=[
            deal_row(acme, 1, stage=stage(process, "Propose"), created_at=created),
            deal_row(
                acme,
                2,
                status="lost",
                closed_on=closed,
                lost_reason="",
                stage=stage(process, "Discover"),
                created_at=created,
            ),
        ],
    )

    open_deal, lost = Opportunity.objects.filter(pk__in=result.deal_ids).order_by("external_id")
    assert open_deal.stage == stage(process, "Propose")
    assert lost.stage == stage(process, "Discover")  # a lost deal keeps the stage given
    done = MilestoneCompletion.objects.filter(opportunity=open_deal).order_by("completed_at", "id")
    # Every milestone of the stages before "Propose", in process order, none verified here.
    assert [c.milestone.name for c in done] == [
        "Qualify #1", "Qualify #2", "Discover #1", "Discover #2",
    ]  # fmt: skip
    assert {c.verification_state for c in done} == {"imported"}
    assert all(c.counts for c in done)
    assert {c.completed_at for c in done} == {created}  # only one date known: the engage date
    spread = MilestoneCompletion.objects.filter(opportunity=lost).order_by("completed_at", "id")
    close_start = timezone.make_aware(dt.datetime(2023, 3, 31))
    # Between the engage date and the close, the last one at the close.
    assert created < spread.first().completed_at < spread.last().completed_at == close_start
    assert lost.stage_entered_at == close_start
    assert open_deal.stage_entered_at == created
    status = lost.changes.get(field=OpportunityChange.Field.STATUS, new_value="lost")
    assert status.changed_at == close_start


def test_as_of_a_past_day_replays_the_file(rep_a, process, acme):
    created = at("2023-05-02")
    opportunity_bulk_import(
        actor=rep_a,
        rows=[
            deal_row(
                acme,
                amount=Decimal("900"),
                stage=stage(process, "Discover"),
                status="won",
                closed_on=dt.date(2023, 9, 15),
                created_at=created,
            )
        ],
    )
    deal = Opportunity.objects.get(external_id="OPP-1")

    before = opportunities_as_of(at=at("2023-05-01"))
    engaged = opportunities_as_of(at=at("2023-06-01"))[deal.pk]
    won = opportunities_as_of(at=at("2023-09-16"))[deal.pk]

    assert deal.pk not in before
    assert (engaged["status"], engaged["amount"]) == ("open", Decimal("900.00"))
    assert engaged["stage"] != deal.stage_id  # on its way: the stages in between are dated
    assert (won["status"], won["stage"], won["closed_on"]) == (
        "won", deal.stage_id, dt.date(2023, 9, 15),
    )  # fmt: skip


def test_reimport_updates_by_external_id_and_moves_the_stage_forward_only(
    rep_a, manager_a, process, acme
):
    first = opportunity_bulk_import(
        actor=rep_a, rows=[deal_row(acme, stage=stage(process, "Discover"))]
    )
    deal = Opportunity.objects.get(pk=first.deal_ids[0])
    ActivityFactory(owner=rep_a, account=acme, opportunity=deal, deal_owner=rep_a)
    se = type(rep_a).objects.create(
        username="rep_c", email="c@example.com", manager=manager_a,
        ancestor_path=manager_a.subtree_path,
    )  # fmt: skip

    again = opportunity_bulk_import(
        actor=manager_a,
        rows=[deal_row(acme, amount=Decimal("2000"), owner=se, stage=stage(process, "Propose"))],
    )
    back = opportunity_bulk_import(
        actor=manager_a,
        rows=[deal_row(acme, amount=Decimal("2000"), stage=stage(process, "Qualify"))],
    )

    deal.refresh_from_db()
    assert (again.created, again.updated, back.updated) == (0, 1, 1)
    assert Opportunity.objects.count() == 1
    assert (deal.amount, deal.owner, deal.stage) == (Decimal("2000"), se, stage(process, "Propose"))
    assert deal.imported_at is not None
    assert deal.version == 3
    amount = deal.changes.filter(field="amount").last()
    assert (amount.old_value, amount.new_value, amount.changed_by) == (
        "1200.50",
        "2000.00",
        manager_a,
    )
    assert Activity.objects.get(opportunity=deal).deal_owner == se  # the copy follows


def test_any_bad_row_writes_nothing_and_each_problem_names_its_row(rep_a, rep_b, process, acme):
    rows = [deal_row(acme, n) for n in range(1, 6)]
    rows[1].owner = rep_b  # another team's rep
    rows[3].status = "won"  # no close date
    rows[4].forecast_category, rows[4].status = "commit", "lost"
    rows[4].closed_on = dt.date(2024, 1, 2)

    with pytest.raises(ImportRowsInvalid) as refused:
        opportunity_bulk_import(actor=rep_a, rows=rows)

    assert [(p.row, p.field) for p in refused.value.problems] == [
        (3, "owner"), (5, "closed_on"), (6, "forecast_category"),
    ]  # fmt: skip
    assert f'"{rep_b}" is not in your team' in refused.value.problems[0].message
    assert not Opportunity.objects.exists()
    assert not OpportunityChange.objects.exists()
    assert opportunity_bulk_problems(actor=rep_a, rows=rows) == refused.value.problems


def test_a_manager_cannot_import_into_another_teams_deals(manager_a, rep_b, process):
    theirs = AccountFactory(owner=rep_b)
    opportunity_bulk_import(actor=rep_b, rows=[deal_row(theirs)])

    problems = opportunity_bulk_problems(
        actor=manager_a, rows=[deal_row(theirs, amount=Decimal(1)), deal_row(theirs, 2)]
    )

    assert [(p.row, p.field, p.message) for p in problems] == [
        (2, "external_id", 'Another opportunity already has the external id "OPP-1".'),
        (3, "account", "No such account."),
        # the default owner is the importer: a manager may own deals of their team
    ]


def test_products_accounts_to_create_and_one_refresh_mark(rep_a, process, acme, monkeypatch):
    gtx = Product.objects.create(name="GTX Pro", list_price=Decimal("550"))
    marks = []
    real = refresh.changed
    monkeypatch.setattr(refresh, "changed", lambda **kw: marks.append(kw) or real(**kw))

    rows = [
        deal_row(acme, 1, product=gtx, quantity=Decimal("4"), amount=Decimal("2000")),
        deal_row(None, 2, new_account_name="Globex  Corp", product=gtx),
        deal_row(None, 3, new_account_name="globex corp"),
    ]
    preview = opportunity_bulk_preview(actor=rep_a, rows=rows)
    assert not Account.objects.filter(name__iexact="globex corp").exists()  # a dry run

    result = opportunity_bulk_import(actor=rep_a, rows=rows)

    item = OpportunityLineItem.objects.get(opportunity__external_id="OPP-1")
    assert (item.product, item.quantity, item.unit_price) == (gtx, Decimal(4), Decimal(500))
    globex = Account.objects.get(name="Globex  Corp")
    assert (globex.owner, globex.opportunities.count()) == (rep_a, 2)
    assert result.accounts_created == preview.accounts_created == ["Globex  Corp"]
    assert (preview.created, preview.updated) == (result.created, result.updated) == (3, 0)
    import_marks = [m for m in marks if m.get("deals") is not None]
    assert len(import_marks) == 1
    assert rep_a.pk in import_marks[0]["people"]
    # The periods the file's dates fall in exist, for their figures.
    assert Period.objects.filter(kind="quarter", name="FY2024 Q2").exists()


def _queries_for(actor, account, count: int, offset: int) -> int:
    rows = [deal_row(account, offset + n, created_at=at("2024-01-05")) for n in range(count)]
    with CaptureQueriesContext(connection) as queries:
        opportunity_bulk_import(actor=actor, rows=rows)
    return len(queries)


def test_queries_do_not_grow_with_the_rows(manager_a, rep_a, process, acme):
    periods_ensure(year=2024)  # the file's year: no period to create in either run
    # Reads (deals by external id, visibility of deals and accounts, process, stages,
    # milestones, rates, periods), the id reservations, one insert per table, the marks.
    small = _queries_for(manager_a, acme, 50, 0)
    large = _queries_for(manager_a, acme, 500, 1000)

    assert large == small
    assert Opportunity.objects.count() == 550


def test_quantities_must_fit_a_line_item(rep_a, process, acme):
    gtx = Product.objects.create(name="GTX Pro")
    rows = [
        deal_row(acme, 1, product=gtx, quantity=Decimal("0.001")),
        deal_row(acme, 2, product=gtx, quantity=Decimal("20000000000")),
        deal_row(acme, 3, quantity=Decimal(2)),  # no product
        deal_row(acme, 4, product=gtx, quantity=Decimal("2.5")),
    ]

    problems = opportunity_bulk_problems(actor=rep_a, rows=rows)

    # 2.5 is fine; the others: under a hundredth, over ten digits, no product
    assert [p.row for p in problems] == [2, 3, 4]
    assert {p.field for p in problems} == {"quantity"}
    assert problems[0].message.startswith('"0.001": give a quantity above zero')
