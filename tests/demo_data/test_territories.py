"""Demo territories and quotas (demo_data.territories), loaded by seed_demo after the core demo."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from demo_data import territories as territory_demo
from salesmgmt.models import Role, SalesRole, User
from territories import selectors
from territories.models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    AssignmentRun,
    CompanyTarget,
    Quota,
    QuotaChange,
    Territory,
    TerritoryOverlay,
)
from tests.fixtures.demo import demo_once

SMALL = {"reps": 16, "opportunities": 200}


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


# The small demo, seeded once for this module (tests/fixtures/demo.py); each test's writes
# roll back to it.
seeded = demo_once(**SMALL)


@pytest.fixture
def demo(seeded, db):
    """The small demo, as ``seed()`` leaves it."""


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def territory_data() -> dict[str, list]:
    """Everything the territories part writes, without ids or timestamps."""
    names = dict(Territory.objects.values_list("pk", "name"))
    rules = AssignmentRule.objects.select_related("territory").prefetch_related("named_accounts")
    run_rows = AssignmentRun.objects.values_list(
        "kind", "applied_by__username", "effective_on", "moved_count",
        "opportunities_moved_count", "move_open_opportunities", "note",
    )  # fmt: skip
    assignment_rows = AccountTerritoryAssignment.objects.values_list(
        "account__external_id", "territory__name", "effective_from", "effective_to", "source",
        "rule__name", "assigned_by__username", "run__kind",
    )  # fmt: skip
    quota_rows = Quota.objects.values_list(
        "user__username", "period__start_on", "basis", "territory__name", "territory_quota",
        "assignment_share", "ramp_factor", "manager_adjustment", "amount", "version",
    )  # fmt: skip
    change_rows = QuotaChange.objects.values_list(
        "quota__user__username", "quota__period__start_on", "field", "old_value", "new_value",
        "reason", "source", "changed_by__username",
    )  # fmt: skip
    return {
        "territories": sorted(
            Territory.objects.values_list("name", "level", "parent__name", "owner__username")
        ),
        "rules": sorted(
            (
                rule.name,
                rule.territory.name,
                rule.priority,
                tuple(rule.regions),
                tuple(rule.industries),
                tuple(sorted(a.external_id for a in rule.named_accounts.all())),
            )
            for rule in rules
        ),
        "runs": sorted(run_rows),
        "fingerprints_match": [
            run.fingerprint == run_fingerprint(run) for run in AssignmentRun.objects.all()
        ],
        "assignments": sorted(assignment_rows),
        "account_owners": sorted(Account.objects.values_list("external_id", "owner__username")),
        "targets": sorted(
            CompanyTarget.objects.values_list(
                "period__start_on", "amount", "method", "allocated_by__username"
            )
        ),
        "quotas": sorted(quota_rows),
        # the territory term is logged as its id
        "quota_changes": sorted(
            (*row[:4], names[int(row[4])] if row[2] == "territory" else row[4], *row[5:])
            for row in change_rows
        ),
    }


def run_fingerprint(run: AssignmentRun) -> str:
    """The fingerprint of the preview that would have made this run's rows."""
    moves = [
        selectors.Move(
            account_id=row.account_id,
            account_name="",
            from_territory_id=None,
            to_territory_id=row.territory_id,
            to_owner_id=0,
        )
        for row in run.assignments.all()
    ]
    return selectors.AssignmentPlan(run.kind, run.effective_on, moves).fingerprint


def test_every_demo_rep_has_a_territory_in_the_org_hierarchy(demo):
    reps = User.objects.filter(role=Role.REP)
    leaves = {t.owner_id: t for t in Territory.objects.leaves().select_related("parent")}

    for rep in reps:
        if rep.sales_role in (SalesRole.AE, SalesRole.AM):
            # one territory per seller, under their manager's district
            assert leaves[rep.pk].parent.owner_id == rep.manager_id
        else:
            # sales engineers and SDRs overlay their team's district
            overlay = TerritoryOverlay.objects.get(user=rep)
            assert overlay.territory.owner_id == rep.manager_id
    levels = Counter(Territory.objects.values_list("level", flat=True))
    assert (
        levels[Territory.Level.DISTRICT]
        == User.objects.filter(role=Role.MANAGER, manager__role=Role.MANAGER).count()
    )
    assert levels[Territory.Level.REGION] >= 1
    assert not Territory.objects.filter(level=Territory.Level.TERRITORY, parent=None).exists()


def test_every_period_allocation_adds_up_to_its_target(demo):
    targets = CompanyTarget.objects.select_related("period")
    today = timezone.localdate()

    # the quarter of the first deals, eight quarters of history, this one and the next
    assert targets.count() == 11
    assert {t.method for t in targets} == {
        CompanyTarget.Method.HISTORICAL,
        CompanyTarget.Method.POTENTIAL,
    }
    for target in targets:
        allocated = Quota.objects.filter(period=target.period).aggregate(s=Sum("territory_quota"))
        assert allocated["s"] == target.amount
    assert targets.filter(period__start_on__gt=today).count() == 1


def test_past_targets_are_near_what_was_booked(demo):
    last = quarter_start(timezone.localdate()) - dt.timedelta(days=1)
    target = CompanyTarget.objects.get(period__kind="quarter", period__end_on=last)

    company = selectors.attainment_company(period=target.period)

    assert company.bookings > 0
    # the target is the bookings times 0.9-1.1 (whole thousands); ramps only lower the quota
    assert Decimal("0.85") <= company.bookings / target.amount <= Decimal("1.15")


def test_most_accounts_are_assigned_and_the_rules_agree_with_the_owners(demo):
    admin = User.objects.get(username="admin")
    accounts = Account.objects.count()
    current = AccountTerritoryAssignment.objects.current().select_related("territory", "account")

    assert current.count() >= 0.9 * accounts
    for row in current:
        assert row.territory.owner_id == row.account.owner_id
    # applying the rules again moves nothing: the demo's rows are what the rules say
    assert selectors.assignment_preview(actor=admin).moves == []
    coverage = selectors.coverage_report(viewer=admin)
    assert coverage.gaps
    assert coverage.overlaps
    assert len(coverage.gaps) + len(coverage.overlaps) <= 0.1 * accounts


def test_ramping_new_hires_get_a_ramped_quota(demo):
    today = timezone.localdate()
    new_hires = User.objects.filter(
        role=Role.REP, hire_date__gt=today - dt.timedelta(days=90), owned_territories__isnull=False
    )
    quotas = Quota.objects.filter(
        user__in=new_hires, period__kind="quarter", period__start_on=quarter_start(today)
    )

    assert new_hires.exists()
    assert quotas.count() == new_hires.count()
    for quota in quotas:
        assert quota.ramp_factor < 1
        assert quota.amount < quota.territory_quota


@pytest.mark.parametrize("username", ["manager", "executive"])
def test_territory_and_quota_pages_show_the_demo(demo, client, username):
    viewer = User.objects.get(username=username)
    rep = User.objects.get(username="rep")
    client.force_login(viewer)

    overview = client.get(reverse("territories:overview"))
    quotas = client.get(reverse("territories:quota_plan"))

    assert overview.status_code == 200
    assert Territory.objects.get(owner=rep).name in overview.content.decode()
    assert overview.context["coverage"].checked_count > 0
    assert quotas.status_code == 200
    rows = {row.person.pk: row for row in quotas.context["plan"].rows}
    assert rows[rep.pk].attainment.quota > 0
    assert rows[viewer.pk].attainment.quota > 0  # the team's sum


def test_seed_demo_twice_keeps_one_set_of_territories(demo):
    before = territory_data()

    output = seed()

    assert "already exists" in output
    assert territory_data() == before


def test_reset_rebuilds_the_same_territories_and_quotas(demo):
    before = territory_data()

    seed(reset=True)

    assert territory_data() == before
    assert QuotaChange.objects.count() > 0


def test_bulk_paths_write_what_the_services_write(db, monkeypatch):
    # given the small demo, which goes through assignment_apply
    seed()
    through_services = territory_data()

    # when the same demo is loaded through the bulk path meant for big demos
    monkeypatch.setattr(territory_demo, "SERVICE_PATH_MAX_ACCOUNTS", 0)
    seed(reset=True)

    assert territory_data() == through_services


def test_territories_are_added_to_a_demo_loaded_without_them(demo):
    expected = territory_data()
    territory_demo.delete_demo_territories()
    assert not Territory.objects.exists()

    output = seed()

    assert "Demo data loaded" in output
    assert territory_data() == expected
