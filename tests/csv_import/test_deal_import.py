"""Importing deals as a CRM exports them: people by name, text stages, old dates, products with
typos, blank cells; history dated from the file; all or nothing; progress while it runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, MilestoneCompletion, Opportunity, OpportunityLineItem, Product
from accounts.selectors import opportunities_as_of
from csv_import import apply, parsing, specs
from salesmgmt.models import ImportJob
from tests.factories import AccountFactory, UserFactory

HEADER = (
    "Opportunity,Sales Agent,Account,Deal Stage,Status,Engage Date,Closed on,Close date,Amount,"
    "Product,Qty,External ID\n"
)
COLUMN_MAP = {"Engage Date": "created_at", "Closed on": "closed_on"}


@pytest.fixture
def team(rep_a, rep_b, manager_a):
    """People as the file knows them: by name only."""
    for user, (first, last) in ((rep_a, ("Dana", "Reyes")), (rep_b, ("Sam", "Okafor")),
                                (manager_a, ("Lee", "Chen"))):  # fmt: skip
        user.first_name, user.last_name = first, last
        user.save()
    Product.objects.create(name="GTX Pro", list_price=Decimal("550"))
    Product.objects.create(name="MG Special", list_price=Decimal("55"))
    AccountFactory(owner=rep_a, name="Acme Corporation")


def export(*lines: str) -> str:
    return HEADER + "".join(f"{line}\n" for line in lines)


# Names in any case and spacing, stages as text, blank stage, product, quantity, engage date.
# fmt: off
GOOD = [
    "Acme pilot,dana reyes,Acme Corporation,discover,open,2023-11-02,,2024-03-31,1200,"
    "GTX Pro,2,D-1",
    "Acme plant,Dana  Reyes,acme corporation,PROPOSE,won,2023-06-12,2023-09-28,2023-09-30,5400,"
    ",,D-2",
    "Betatech,Lee Chen,Betatech,,lost,2024-01-15,2024-02-20,2024-03-31,800,MG Special,,D-3",
    "Cyclone,Dana Reyes,Cyclone Ltd,Qualify,open,,,2025-01-31,300,,,D-4",
]
# fmt: on


@pytest.fixture
def run(api_client_for, django_capture_on_commit_callbacks):
    def upload(user, text, dry_run=False):
        client = api_client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/",
                {"kind": "opportunities", "content": text, "dry_run": dry_run,
                 "column_map": COLUMN_MAP},
                format="json",
            )  # fmt: skip
        assert response.status_code == 202, response.content
        return client.get(f"/api/v1/imports/{response.json()['id']}/").json()

    return upload


def reasons(job) -> dict[tuple[int, str], str]:
    return {(e["row"], e["column"]): e["reason"] for e in job["errors"]}


def test_a_crm_export_imports_with_its_stages_history_and_products(
    rep_a, manager_a, team, process, run
):
    job = run(manager_a, export(*GOOD))

    assert job["status"] == "succeeded", job["errors"]
    assert (job["summary"]["created"], job["summary"]["updated"]) == (4, 0)
    assert job["summary"]["notices"] == [
        '2 accounts were created, each owned by the owner of its first deal: "Betatech" and '
        '"Cyclone Ltd".'
    ]
    pilot, plant, beta, cyclone = Opportunity.objects.order_by("external_id")
    assert (pilot.owner, pilot.stage.name, pilot.account.name) == (
        rep_a,
        "Discover",
        "Acme Corporation",
    )
    assert pilot.created_at == timezone.make_aware(dt.datetime(2023, 11, 2))
    assert (plant.status, plant.stage.name) == ("won", "Negotiate")  # won: the last stage
    assert (beta.owner, beta.status, beta.stage.name) == (manager_a, "lost", "Qualify")
    assert Account.objects.get(name="Betatech").owner == manager_a
    imported = MilestoneCompletion.objects.filter(opportunity=pilot, verification_state="imported")
    assert sorted(imported.values_list("milestone__name", flat=True)) == [
        "Qualify #1",
        "Qualify #2",
    ]
    item = OpportunityLineItem.objects.get(opportunity=pilot)
    assert (item.product.name, item.quantity, item.unit_price) == ("GTX Pro", 2, Decimal("600.00"))
    assert OpportunityLineItem.objects.get(opportunity=beta).quantity == 1
    # The as-of view of a day in 2023 shows the won deal open, before it was won.
    july = opportunities_as_of(at=timezone.make_aware(dt.datetime(2023, 7, 1)))
    assert (july[plant.pk]["status"], july[plant.pk]["amount"]) == ("open", Decimal("5400.00"))
    assert pilot.pk not in july
    assert cyclone.imported_at is not None


def test_typos_and_unknown_people_are_reported_with_the_value_and_nothing_is_written(
    rep_a, manager_a, team, process, run
):
    bad = [
        GOOD[0].replace("GTX Pro", "GTX Pr0"),
        GOOD[1].replace("PROPOSE", "Proposal stage"),
        GOOD[2].replace("Lee Chen", "Lee Chan"),
        GOOD[3],
    ]

    job = run(manager_a, export(*bad), dry_run=True)

    assert job["status"] == "failed"
    assert reasons(job) == {
        (2, "product"): 'No product named "GTX Pr0" in the catalogue (did you mean "GTX Pro"?).',
        (3, "stage"): (
            'No stage named "Proposal stage" in the process "Standard" (its stages: Qualify, '
            "Discover, Propose, Negotiate)."
        ),
        (4, "owner_name"): 'No one named "Lee Chan" in your team (did you mean "Lee Chen"?).',
    }
    assert job["summary"]["notices"] == [
        '2 accounts will be created, each owned by the owner of its first deal: "Betatech" and '
        '"Cyclone Ltd".'
    ]
    assert not Opportunity.objects.exists()
    assert not Account.objects.filter(name="Betatech").exists()


def test_visibility_and_ambiguous_names(rep_a, rep_b, manager_a, team, process, run):
    UserFactory(first_name="Dana", last_name="Reyes", manager=manager_a)  # a second Dana Reyes

    job = run(manager_a, export(GOOD[0], GOOD[2].replace("Lee Chen", "Sam Okafor")))

    assert reasons(job) == {
        (2, "owner_name"): 'Several people in your team are named "dana reyes"; use owner_email.',
        # rep_b is in manager_b's team: not a name manager_a's import can give a deal to
        (3, "owner_name"): 'No one named "Sam Okafor" in your team.',
    }
    assert not Opportunity.objects.exists()


def test_reimport_updates_instead_of_duplicating(manager_a, team, process, run):
    run(manager_a, export(*GOOD))

    again = run(manager_a, export(*(line.replace(",1200,", ",1500,") for line in GOOD)))

    assert again["status"] == "succeeded", again["errors"]
    assert (again["summary"]["created"], again["summary"]["updated"]) == (0, 4)
    assert "notices" not in again["summary"]  # the accounts exist now
    assert Opportunity.objects.count() == 4
    assert Opportunity.objects.get(external_id="D-1").amount == Decimal("1500")


def test_progress_moves_batch_by_batch(manager_a, team, process, monkeypatch):
    monkeypatch.setattr("accounts.services_bulk.deals.BATCH", 2)
    lines = [GOOD[3].replace("D-4", f"D-{n}") for n in range(5)]
    parsed = parsing.parse(export(*lines), specs.spec_for("opportunities"), COLUMN_MAP)
    seen: list[int] = []

    dry = apply.apply(
        kind="opportunities", actor=manager_a, parsed=parsed, dry_run=True, progress=seen.append
    )
    dry_seen, seen[:] = list(seen), []
    result = apply.apply(
        kind="opportunities", actor=manager_a, parsed=parsed, dry_run=False, progress=seen.append
    )

    # The dry run checks without writing: the same counts, its progress at the end.
    assert (dry.created, dry.errors, dry_seen) == (5, [], [5])
    assert (result.created, result.errors) == (5, [])
    assert seen == [2, 4, 5, 5]  # after each batch written, then the end
    assert Opportunity.objects.count() == 5


def test_the_job_page_shows_the_notices(client, manager_a, team, process, run):
    job = run(manager_a, export(GOOD[2]), dry_run=True)
    client.force_login(manager_a)

    html = client.get(reverse("import_job", args=[job["id"]])).content.decode()

    assert "1 account will be created" in html
    assert ImportJob.objects.get(pk=job["id"]).summary["notices"]
