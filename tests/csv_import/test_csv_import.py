"""CSV import: every bad row reported and nothing imported; good files all-or-nothing;
re-imports update on external_id; the org hierarchy from managers' emails; progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account, Activity, Contact, Opportunity
from csv_import.jobs import create_import_job, live_rows_done, run_import_job
from salesmgmt.models import ImportJob, Role, User
from tests.factories import AccountFactory

ACCOUNTS = """Account Name,Industry,Employees,Annual Revenue,Owner,External ID
Acme,Software,500,"1,200,000.50",rep_a@example.com,A-1
Globex,Energy,,,rep_a@example.com,A-2
"""


@pytest.fixture
def run(api_client_for, django_capture_on_commit_callbacks):
    """Upload a CSV through the API as ``user`` and run the job (in-process, eager); with a
    token, or ``in_session`` signed in with session cookies."""

    def upload(user, kind, text, dry_run=False, in_session=False, **extra):
        if in_session:
            client = APIClient()
            client.force_login(user)
        else:
            client = api_client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/",
                {
                    "kind": kind,
                    "content": text,
                    "dry_run": dry_run,
                    **extra,
                },
                format="json",
            )
        assert response.status_code == 202, response.content
        return client.get(f"/api/v1/imports/{response.json()['id']}/").json()

    return upload


def test_a_good_file_imports_every_row(rep_a, run):
    job = run(rep_a, "accounts", ACCOUNTS)

    assert job["status"] == "succeeded"
    assert (job["rows_total"], job["rows_done"]) == (2, 2)
    assert job["summary"] == {"created": 2, "updated": 0, "ignored_columns": []}
    acme = Account.objects.get(external_id="A-1")
    assert (acme.name, acme.owner, acme.annual_revenue) == ("Acme", rep_a, Decimal("1200000.50"))
    assert Account.objects.get(external_id="A-2").employee_count is None


def test_a_file_with_bad_rows_imports_nothing_and_reports_each_one(rep_a, rep_b, run):
    text = (
        "name,employee_count,annual_revenue,owner_email,external_id\n"
        "Good,10,5,rep_a@example.com,G-1\n"
        ",ten,-5,rep_b@example.com,G-2\n"  # line 3: four problems
        "Also good,,,,G-3\n"
        "Dup,1,1,,G-1\n"  # line 5: repeated external id
        f"{'x' * 201},1,1,nobody@example.com,G-5\n"  # line 6: too long, unknown owner
    )

    job = run(rep_a, "accounts", text)

    assert job["status"] == "failed"
    assert not Account.objects.filter(external_id__startswith="G-").exists()
    assert {(e["row"], e["column"]) for e in job["errors"]} == {
        (3, "name"),
        (3, "employee_count"),
        (3, "annual_revenue"),
        (3, "owner_email"),
        (5, "external_id"),
        (6, "name"),
        (6, "owner_email"),
    }
    reasons = {(e["row"], e["column"]): e["reason"] for e in job["errors"]}
    assert reasons[(3, "employee_count")] == 'Not a whole number: "ten".'
    # rep_b exists but is not in rep_a's team: the import cannot give them records
    assert reasons[(3, "owner_email")] == 'No one with the email "rep_b@example.com" in your team.'
    assert reasons[(5, "external_id")] == 'Repeats an earlier row\'s external id "G-1".'
    # A long value is quoted cut short, with its length
    assert reasons[(6, "name")] == f'Longer than 200 characters (201): "{"x" * 40}…".'


def test_rows_with_too_few_or_too_many_fields_are_reported_per_row(rep_a, run):
    text = (
        "name,industry,external_id\n"
        "Good,Software,R-1\n"
        "Short,Software\n"  # line 3: no external_id
        "Long,Software,R-3,=cmd,extra\n"  # line 4: two extra values
        '"Two\nlines",Energy,R-4\n'  # lines 5-6: one record, fine
        "Alone\n"  # line 7
    )

    job = run(rep_a, "accounts", text)

    assert job["status"] == "failed"
    assert not Account.objects.filter(external_id__startswith="R-").exists()
    assert [(e["row"], e["column"], e["reason"]) for e in job["errors"]] == [
        (3, "external_id", 'Has 2 fields but the header has 3; no value for: "external_id".'),
        (4, "", 'Has 5 fields but the header has 3; extra values: "=cmd", "extra".'),
        (
            7,
            "industry",
            'Has 1 field but the header has 3; no value for: "industry", "external_id".',
        ),
    ]


def test_service_rules_are_reported_per_row_and_roll_back_the_rest(rep_a, integrator, run):
    # Integrators are not sellers, so owning nothing is refused by the service on row 3 only.
    text = "name,owner_email\nFine,rep_a@example.com\nNo owner,\n"

    job = run(integrator, "accounts", text)

    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "owner_email")]
    assert not Account.objects.filter(name="Fine").exists()


def test_reimporting_with_external_ids_updates_instead_of_duplicating(rep_a, run):
    run(rep_a, "accounts", ACCOUNTS)

    job = run(rep_a, "accounts", ACCOUNTS.replace("Software", "Hardware"))

    assert job["summary"]["updated"] == 2
    assert Account.objects.filter(external_id__in=["A-1", "A-2"]).count() == 2
    assert Account.objects.get(external_id="A-1").industry == "Hardware"


def test_dry_run_reports_but_saves_nothing_then_imports_for_real(
    rep_a, run, api_client_for, django_capture_on_commit_callbacks
):
    job = run(rep_a, "accounts", ACCOUNTS, dry_run=True)

    assert job["status"] == "succeeded"
    assert job["summary"]["created"] == 2
    assert not Account.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        real = api_client_for(rep_a).post(f"/api/v1/imports/{job['id']}/import/")
    assert real.status_code == 202
    assert Account.objects.count() == 2


def test_users_import_builds_the_hierarchy_from_managers_emails(admin_user, run):
    text = (
        "Name,Email,Role,Manager's email,Region,Hire date,External ID\n"
        "Ada Boss,ada@corp.com,executive,,EMEA,2020-01-01,E1\n"
        "Rae Rep,rae@corp.com,Sales rep,max@corp.com,EMEA,2023-02-01,E3\n"
        "Max Manager,max@corp.com,manager,ada@corp.com,EMEA,2021-06-15,E2\n"
    )

    # Roles other than rep: an administrator signed in (not a token) may give them.
    job = run(admin_user, "users", text, in_session=True)

    assert job["status"] == "succeeded", job["errors"]
    ada, max_, rae = (
        User.objects.get(email=e) for e in ("ada@corp.com", "max@corp.com", "rae@corp.com")
    )
    assert (rae.manager, max_.manager, ada.manager) == (max_, ada, None)
    assert rae.ancestor_path == f"/{ada.pk}/{max_.pk}/"
    assert (rae.first_name, rae.last_name, rae.role, rae.hire_date) == (
        "Rae",
        "Rep",
        Role.REP,
        dt.date(2023, 2, 1),
    )

    # moving Rae under Ada and renaming Max updates, not duplicates (and, no role changing,
    # a token may do it)
    again = run(
        admin_user,
        "users",
        text.replace(
            "Rae Rep,rae@corp.com,Sales rep,max@corp.com",
            "Rae Rep,rae@corp.com,Sales rep,ada@corp.com",
        ).replace("Max Manager", "Max Major"),
    )
    assert again["summary"]["updated"] == 3
    rae.refresh_from_db()
    assert rae.manager == ada
    assert User.objects.get(external_id="E2").last_name == "Major"


def test_users_import_reports_unknown_managers_and_cycles(admin_user, run):
    text = (
        "name,email,manager_email\n"
        "A One,a@corp.com,b@corp.com\n"
        "B Two,b@corp.com,a@corp.com\n"
        "C Three,c@corp.com,ghost@corp.com\n"
    )

    job = run(admin_user, "users", text)

    assert job["status"] == "failed"
    columns = {(e["row"], e["column"]) for e in job["errors"]}
    assert (4, "manager_email") in columns
    assert (3, "manager_email") in columns  # the cycle
    assert not User.objects.filter(email__endswith="@corp.com").exists()


def test_only_admins_and_integrators_import_people(rep_a, api_client_for):
    response = api_client_for(rep_a).post(
        "/api/v1/imports/",
        {
            "kind": "users",
            "content": "name,email\nX Y,x@y.com\n",
        },
        format="json",
    )

    assert response.status_code == 403


def test_opportunities_with_closed_history_and_reimport(rep_a, process, run):
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")
    text = (
        "Opportunity,Account External ID,Owner,Amount,Close date,Status,Closed on,Lost reason,"
        "Created,External ID\n"
        "Won one,A-1,rep_a@example.com,1000,2024-03-31,won,2024-03-20,,2024-01-05,O-1\n"
        "Lost one,A-1,rep_a@example.com,500,2024-06-30,lost,2024-06-01,Budget,2024-02-01,O-2\n"
        "Open one,A-1,,250.5,2030-01-31,,,,,O-3\n"
    )

    job = run(rep_a, "opportunities", text)
    again = run(rep_a, "opportunities", text.replace("250.5", "300"))

    assert job["status"] == "succeeded", job["errors"]
    won = Opportunity.objects.get(external_id="O-1")
    assert (won.status, won.closed_on, won.created_at.date()) == (
        "won",
        dt.date(2024, 3, 20),
        dt.date(2024, 1, 5),
    )
    assert Opportunity.objects.get(external_id="O-2").lost_reason == "Budget"
    # The open deal's empty engage date is reported, not silently "now".
    (engage,) = again["summary"].pop("defaulted")
    assert (engage["column"], engage["count"], engage["rows"]) == ("created_at", 1, [4])
    assert again["summary"] == {"created": 0, "updated": 3, "ignored_columns": []}
    assert Opportunity.objects.get(external_id="O-3").amount == Decimal("300.00")
    assert Opportunity.objects.count() == 3


def test_contacts_and_activities_reference_accounts_and_deals(rep_a, rep_b, process, run):
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")
    AccountFactory(owner=rep_b, external_id="B-1", name="Theirs")
    contacts = (
        "account_external_id,first_name,last_name,email,buying_role,external_id\n"
        "A-1,Ann,Lee,ann@acme.com,Champion,C-1\n"
        "B-1,Bob,Ray,,,C-2\n"
    )
    bad = run(rep_a, "contacts", contacts)
    good = run(rep_a, "contacts", contacts.splitlines()[0] + "\n" + contacts.splitlines()[1])
    activities = run(
        rep_a,
        "activities",
        "kind,account_name,occurred_at,notes,external_id\n"
        "Call,Acme,2024-05-01T10:00:00+02:00,Intro,X-1\n",
    )

    # rep_b's account is outside rep_a's visibility: "no such account", nothing imported
    assert [(e["row"], e["column"], e["reason"]) for e in bad["errors"]] == [
        (3, "account_external_id", 'No account with external id "B-1".')
    ]
    assert good["status"] == "succeeded"
    assert Contact.objects.get(external_id="C-1").buying_role == "champion"
    assert activities["status"] == "succeeded", activities["errors"]
    activity = Activity.objects.get(external_id="X-1")
    assert activity.occurred_at == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


def test_imports_keep_the_activities_copy_of_their_deals_owner(
    integrator, rep_a, rep_b, process, run
):
    # Activity.deal_owner: what the activities list's visibility reads
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")
    deals = "name,account_external_id,owner_email,amount,expected_close_on,external_id\n"
    opened = run(
        integrator, "opportunities", deals + "Deal,A-1,rep_a@example.com,100,2030-01-31,O-1\n"
    )
    assert opened["status"] == "succeeded", opened["errors"]
    calls = "kind,opportunity_external_id,owner_email,notes,external_id\n"
    logged = run(integrator, "activities", calls + "Call,O-1,rep_b@example.com,Intro,X-1\n")
    assert logged["status"] == "succeeded", logged["errors"]
    call = Activity.objects.get(external_id="X-1")
    assert (call.owner, call.deal_owner) == (rep_b, rep_a)

    # A re-import of the deal with another owner, then of the call (an edit of its notes)
    moved = run(
        integrator, "opportunities", deals + "Deal,A-1,rep_b@example.com,100,2030-01-31,O-1\n"
    )
    again = run(integrator, "activities", calls + "Call,O-1,rep_b@example.com,Again,X-1\n")

    assert (moved["summary"]["updated"], again["summary"]["updated"]) == (1, 1)
    call.refresh_from_db()
    assert (call.notes, call.deal_owner) == ("Again", rep_b)


def test_activities_are_owned_by_the_rep_named_in_the_file(integrator, rep_a, rep_b, run):
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")
    text = (
        "kind,account_external_id,owner_email,notes,external_id\n"
        "Call,A-1,rep_a@example.com,Intro,X-1\n"
        "Meeting,A-1,,Kick-off,X-2\n"
    )

    job = run(integrator, "activities", text)
    refused = run(rep_b, "activities", "kind,account_external_id,owner_email\nCall,A-1,x@y.io\n")

    assert job["status"] == "succeeded", job["errors"]
    assert Activity.objects.get(external_id="X-1").owner == rep_a
    assert Activity.objects.get(external_id="X-2").owner == integrator
    assert {e["column"] for e in refused["errors"]} == {"account_external_id", "owner_email"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("industry\nSoftware\n", "Required column is missing."),
        ('name\n"unclosed\n', "Not a readable CSV file"),
    ],
)
def test_file_level_problems_are_reported(rep_a, run, text, reason):
    job = run(rep_a, "accounts", text)

    assert job["status"] == "failed"
    assert reason in job["errors"][0]["reason"]


def test_header_mapping_and_ignored_columns(rep_a, run):
    job = run(
        rep_a, "accounts", "Company Name,Colour\nAcme,red\n", column_map={"Company Name": "name"}
    )

    assert job["status"] == "succeeded"
    assert job["summary"]["ignored_columns"] == ["Colour"]


def test_raw_csv_and_multipart_uploads(rep_a, api_client_for, django_capture_on_commit_callbacks):
    client = api_client_for(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        raw = client.generic(
            "POST",
            "/api/v1/imports/?kind=accounts&dry_run=false",
            "name\nRaw Co\n",
            content_type="text/csv",
        )
        multipart = client.post(
            "/api/v1/imports/",
            {
                "kind": "accounts",
                "dry_run": "false",
                "file": SimpleUploadedFile("a.csv", b"\xef\xbb\xbfname\nFile Co\n", "text/csv"),
            },
            format="multipart",
        )
        not_utf8 = client.post(
            "/api/v1/imports/",
            {
                "kind": "accounts",
                "file": SimpleUploadedFile("a.csv", b"name\n\xff\xfe\n"),
            },
            format="multipart",
        )

    assert (raw.status_code, multipart.status_code) == (202, 202)
    assert multipart.json()["file_name"] == "a.csv"
    assert set(Account.objects.values_list("name", flat=True)) == {"Raw Co", "File Co"}
    assert not_utf8.status_code == 400
    assert "UTF-8" in not_utf8.json()["fields"]["file"][0]


def test_progress_is_live_while_running_and_final_after(rep_a, monkeypatch):
    job = create_import_job(
        actor=rep_a,
        kind="accounts",
        dry_run=False,
        content="name\n" + "".join(f"Co {i}\n" for i in range(120)),
    )
    seen = []
    from csv_import import apply

    real_progress_every = apply.PROGRESS_EVERY
    monkeypatch.setattr(apply, "PROGRESS_EVERY", 50)
    original = apply.Importer.run

    def spy(self, progress):
        def record(done):
            progress(done)
            seen.append(live_rows_done(ImportJob.objects.get(pk=job.pk)))

        return original(self, record)

    monkeypatch.setattr(apply.Importer, "run", spy)
    finished = run_import_job(job_id=job.pk)

    assert real_progress_every == 50
    assert seen == [50, 100, 120]
    assert (finished.rows_done, finished.rows_total, finished.status) == (120, 120, "succeeded")
    assert run_import_job(job_id=job.pk).finished_at == finished.finished_at  # idempotent


def test_import_pages_upload_and_show_progress_and_errors(
    client, rep_a, django_capture_on_commit_callbacks
):
    client.force_login(rep_a)
    upload = SimpleUploadedFile("accounts.csv", b"name,employee_count\nAcme,many\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports"), {"kind": "accounts", "file": upload, "dry_run": "on"}
        )
    job = ImportJob.objects.get()
    page = client.get(reverse("import_job", args=[job.pk]))
    listing = client.get(reverse("imports"))

    assert response.status_code == 302
    html = page.content.decode()
    assert "Not a whole number: &quot;many&quot;." in html
    assert "employee_count" in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    assert "accounts.csv" in listing.content.decode()


def test_running_job_page_refreshes_and_shows_rows_done(client, rep_a):
    client.force_login(rep_a)
    job = ImportJob.objects.create(
        kind="accounts",
        created_by=rep_a,
        content="name\n",
        status="running",
        rows_total=10,
        rows_done=0,
    )
    from django.core.cache import cache

    cache.set(f"import-progress:{job.pk}", 4)
    html = client.get(reverse("import_job", args=[job.pk])).content.decode()

    assert 'http-equiv="refresh"' in html
    assert "4 of 10 rows" in html


def test_someone_elses_import_is_404(rep_a, rep_b, client, api_client_for):
    job = ImportJob.objects.create(kind="accounts", created_by=rep_b, content="name\n")
    client.force_login(rep_a)

    assert api_client_for(rep_a).get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert client.get(reverse("import_job", args=[job.pk])).status_code == 404


def test_an_accounts_file_without_ids_fills_in_the_accounts_of_its_names(admin_user, rep_a, run):
    # given: an account a deals import created (owned by its first deal's owner), and a CRM
    # export's accounts file with neither ids nor owners
    AccountFactory(owner=rep_a, name="Amber Health", industry="")
    text = "name,industry\namber health,medical\nNew Co,retail\n"

    dry = run(admin_user, "accounts", text.splitlines()[0] + "\n" + text.splitlines()[1] + "\n")
    both = run(admin_user, "accounts", text)

    # then: the known name is updated in place (owner and spelling kept); an administrator
    # owns no accounts, so a new one needs an owner
    assert (dry["status"], dry["summary"]["updated"], dry["summary"]["created"]) == (
        "succeeded",
        1,
        0,
    )
    account = Account.objects.get(name="Amber Health")
    assert (account.industry, account.owner) == ("medical", rep_a)
    assert both["status"] == "failed"
    assert [(e["row"], e["column"]) for e in both["errors"]] == [(3, "owner_email")]


def test_an_administrators_deals_import_attaches_rows_without_account_to_the_placeholder(
    admin_user, rep_a, process, run
):
    text = (
        "name,account_name,owner_email,amount,expected_close_on\n"
        f"Deal 1,,{rep_a.email},100,2026-06-30\n"
    )

    job = run(admin_user, "opportunities", text, options={"account": "placeholder"})

    # The placeholder is created like any new account: owned by its first deal's owner, not
    # by the administrator (who owns no accounts), instead of the job crashing.
    assert job["status"] == "succeeded", job["errors"]
    deal = Opportunity.objects.get(name="Deal 1")
    assert (deal.account.name, deal.account.owner) == ("(No account)", rep_a)


def test_a_deals_file_without_any_account_column_can_use_the_placeholder(
    admin_user, rep_a, process, run
):
    # An export with no account column at all (the deals were never tied to companies).
    text = f"name,owner_email,amount,expected_close_on\nDeal 2,{rep_a.email},250,2026-06-30\n"

    refused = run(admin_user, "opportunities", text)
    job = run(admin_user, "opportunities", text, options={"account": "placeholder"})

    assert refused["status"] == "failed"
    assert "Give one of: account_external_id, account_name." in str(refused["errors"])
    assert job["status"] == "succeeded", job["errors"]
    assert Opportunity.objects.get(name="Deal 2").account.name == "(No account)"


def test_accounts_import_reads_a_website_column_as_the_mail_domain(rep_a, run):
    text = (
        "Account Name,Website,External ID\n"
        "Acme,https://www.Acme.com/,W-1\n"
        "Globex,globex.example,W-2\n"
        "Initech,not a website,W-3\n"  # line 4: no domain in it
    )

    refused = run(rep_a, "accounts", text)

    assert refused["status"] == "failed"
    assert [(e["row"], e["column"], e["reason"]) for e in refused["errors"]] == [
        (4, "domain", "“not a website” is not a domain (e.g. acme.com).")
    ]
    assert not Account.objects.filter(external_id__startswith="W-").exists()

    job = run(rep_a, "accounts", text.replace("not a website", "https://initech.example/en"))

    assert job["status"] == "succeeded", job["errors"]
    stored = dict(
        Account.objects.filter(external_id__startswith="W-").values_list("name", "domain")
    )
    assert stored == {"Acme": "acme.com", "Globex": "globex.example", "Initech": "initech.example"}
