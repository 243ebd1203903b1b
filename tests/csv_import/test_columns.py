"""The columns of every import kind, documented from the spec the parser reads: the table on the
import page, the template CSV (page and API), the columns endpoint for every role, the
``column_map`` of the page form, and row messages that quote the bad value."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from csv_import import parsing
from csv_import.jobs import create_import_job
from csv_import.specs import TYPE_LABELS, spec_for
from salesmgmt.models import ImportJob, ImportKind
from tests.factories import AccountFactory

KINDS = ImportKind.values


def _kind_table(page: str, kind: str) -> str:
    """The HTML of one kind's column table on the import page."""
    match = re.search(rf'<table class="table" data-kind="{kind}">(.*?)</table>', page, re.S)
    assert match, f"no column table for {kind}"
    return match.group(1)


@pytest.mark.parametrize("kind", KINDS)
def test_every_column_has_a_meaning_and_an_example_the_parser_accepts(kind):
    spec = spec_for(kind)
    header = ",".join(column.name for column in spec.columns)
    row = ",".join(f'"{column.example}"' for column in spec.columns)

    parsed = parsing.parse(f"{header}\n{row}\n", spec)

    assert parsed.errors == []
    assert parsed.ignored_columns == []
    for column in spec.columns:
        assert column.description.endswith("."), column.name
        assert column.type_label == TYPE_LABELS[column.type]
        assert parsed.records[0][column.name] is not None, column.name  # a value, not blank


def test_the_import_page_lists_every_column_of_every_kind(client, rep_a):
    client.force_login(rep_a)

    page = client.get(reverse("imports")).content.decode()

    for kind in KINDS:
        table = html.unescape(_kind_table(page, kind))
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]  # after the heading row
        assert len(rows) == len(spec_for(kind).columns)
        for row, column in zip(rows, spec_for(kind).columns, strict=True):
            assert f"<code>{column.name}</code>" in row
            for spelling in column.aliases:
                assert spelling in row
            assert column.type_label in row
            assert ("Yes" in row) == column.required, column.name
            assert f"<code>{column.example}</code>" in row
            assert column.description in row
            for value, label in column.choices:
                if value:
                    assert f"<code>{value}</code> ({label})" in row
        assert f'href="{reverse(f"import_template_{kind}")}"' in page
    assert "Give at least one of: <code>account_external_id</code>" in page
    assert "Only administrators (and integrations, over the API) import people." in page


def test_the_page_opens_the_table_of_the_chosen_kind(client, rep_a):
    client.force_login(rep_a)

    page = client.get(reverse("imports"), {"kind": "activities"}).content.decode()

    assert '<details id="columns-activities" open>' in page
    assert '<details id="columns-accounts">' in page


@pytest.mark.parametrize("kind", KINDS)
def test_a_template_downloads_and_its_dry_run_has_no_header_problem(
    kind, client, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)  # the one role that may import every kind (people too)

    response = client.get(reverse(f"import_template_{kind}"))
    text = response.content.decode()
    header, example = list(csv.reader(io.StringIO(text)))
    with django_capture_on_commit_callbacks(execute=True):
        upload = SimpleUploadedFile(f"{kind}.csv", response.content, "text/csv")
        client.post(reverse("imports"), {"kind": kind, "file": upload, "dry_run": "on"})
    job = ImportJob.objects.get()

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{kind}-template.csv"' in response["Content-Disposition"]
    assert header == [column.name for column in spec_for(kind).columns]
    assert example == [column.example for column in spec_for(kind).columns]
    assert (job.kind, job.dry_run, job.rows_total) == (kind, True, 1)
    assert job.summary.get("ignored_columns", []) == []
    # Every column is read and every value has its type: what is left is references to
    # records this empty database does not have (the example account, owner, deal, product,
    # exchange rate).
    assert [e for e in job.errors if e["row"] == parsing.HEADER_LINE or e["row"] is None] == []
    assert {e["column"] for e in job.errors} <= {
        "account_external_id",
        "account_name",
        "owner_email",
        "manager_email",
        "opportunity_external_id",
        "process",
        "product",
        "currency",
    }


def test_template_cells_are_made_inert_for_spreadsheets(client, rep_a, monkeypatch):
    from csv_import.specs import Column, Spec

    spec = Spec("accounts", (Column("name", example="=HYPERLINK(1)", description="x."),))
    monkeypatch.setattr("csv_import.selectors.columns.spec_for", lambda kind: spec)
    client.force_login(rep_a)

    text = client.get(reverse("import_template_accounts")).content.decode()

    assert text == "name\n'=HYPERLINK(1)\n"


def test_integrators_and_strangers_get_no_template_page(client, integrator):
    anonymous = client.get(reverse("import_template_users"))
    client.force_login(integrator)
    refused = client.get(reverse("import_template_users"))

    assert anonymous.status_code == 302
    assert refused.status_code == 403


def test_the_columns_endpoint_answers_every_role(personas, api_client_for):
    anonymous = APIClient().get("/api/v1/imports/columns/", {"kind": "opportunities"})
    assert anonymous.status_code in (401, 403)
    for name, person in personas.items():
        client = api_client_for(person, scope="read")
        response = client.get("/api/v1/imports/columns/", {"kind": "opportunities"})
        assert response.status_code == 200, name
        body = response.json()
        assert body["kind"] == "opportunities"
        assert [c["name"] for c in body["columns"]] == [
            c.name for c in spec_for("opportunities").columns
        ]
        assert body["one_of"] == [["account_external_id", "account_name"]]
    status = next(c for c in body["columns"] if c["name"] == "status")
    assert status == {
        "name": "status",
        "spellings": [],
        "type": "choice",
        "type_label": "one of the accepted values",
        "required": False,
        "example": "open",
        "description": spec_for("opportunities").column("status").description,
        "choices": [
            {"value": "open", "label": "Open"},
            {"value": "won", "label": "Won"},
            {"value": "lost", "label": "Lost"},
        ],
        "max_length": None,
    }


def test_the_columns_endpoint_refuses_a_missing_or_unknown_kind(rep_a, api_client_for):
    client = api_client_for(rep_a)

    missing = client.get("/api/v1/imports/columns/")
    unknown = client.get("/api/v1/imports/columns/", {"kind": "deals"})

    assert missing.status_code == 400
    assert "kind" in str(missing.json())
    assert unknown.status_code == 400
    assert "deals" in str(unknown.json())


def test_the_api_template_is_the_page_template(client, rep_a, api_client_for):
    client.force_login(rep_a)

    over_api = api_client_for(rep_a).get("/api/v1/imports/template/", {"kind": "contacts"})
    on_page = client.get(reverse("import_template_contacts"))

    assert over_api.status_code == 200
    assert over_api["Content-Type"] == "text/csv; charset=utf-8"
    assert over_api.content == on_page.content


def test_the_schema_documents_the_columns_and_points_the_upload_to_them():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    columns = schema["paths"]["/api/v1/imports/columns/"]["get"]
    template = schema["paths"]["/api/v1/imports/template/"]["get"]
    upload = schema["paths"]["/api/v1/imports/"]["post"]

    assert [p["name"] for p in columns["parameters"]] == ["kind"]
    assert "text/csv" in template["responses"]["200"]["content"]
    assert "/api/v1/imports/columns/" in upload["description"]


def test_the_page_form_carries_a_column_map(client, rep_a, django_capture_on_commit_callbacks):
    client.force_login(rep_a)
    upload = SimpleUploadedFile("a.csv", b"Company,Head count,Vertical\nAcme,12,Energy\n")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports"),
            {
                "kind": "accounts",
                "file": upload,
                "dry_run": "on",
                # any case and spacing; blank lines skipped
                "column_map": "Company = name\r\n\r\n  Head count=Employee_Count \r\n",
            },
        )
    job = ImportJob.objects.get()

    assert response.status_code == 302
    assert job.column_map == {"Company": "name", "Head count": "employee_count"}
    assert (job.status, job.errors) == ("succeeded", [])
    assert job.summary["ignored_columns"] == ["Vertical"]


def test_a_bad_column_map_is_refused_naming_the_header_and_the_column(client, rep_a):
    client.force_login(rep_a)
    upload = SimpleUploadedFile("a.csv", b"Company\nAcme\n")

    response = client.post(
        reverse("imports"),
        {
            "kind": "accounts",
            "file": upload,
            "dry_run": "on",
            "column_map": "Company = nme\nno equals sign\nCOMPANY = name\nRep = stage",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["column_map"]
    assert errors == [
        'Line 2: write it as “file header = column”, not "no equals sign".',
        'Line 3: the header "COMPANY" is mapped twice.',
        '"Company" = "nme": "nme" is not a column of Accounts (see the columns below).',
        '"Rep" = "stage": "stage" is not a column of Accounts (see the columns below).',
    ]
    assert not ImportJob.objects.exists()


@pytest.fixture
def dry_run(django_capture_on_commit_callbacks):
    def run(actor, kind, text):
        with django_capture_on_commit_callbacks(execute=True):
            job = create_import_job(actor=actor, kind=kind, content=text, dry_run=True)
        job.refresh_from_db()
        return {(e["row"], e["column"]): e["reason"] for e in job.errors}

    return run


def test_type_errors_quote_the_bad_value(rep_a, process, dry_run):
    AccountFactory(owner=rep_a, name="Acme")
    reasons = dry_run(
        rep_a,
        "opportunities",
        "account_name,name,amount,expected_close_on,status,owner_email,created_at,currency\n"
        "Acme,Deal,12k,31/12/2026,Engagin,dana@,yesterday,EURO\n",
    )

    assert reasons == {
        (2, "amount"): 'Not a number: "12k".',
        (2, "expected_close_on"): 'Not a date: "31/12/2026" (use YYYY-MM-DD).',
        (2, "status"): 'Unknown status "Engagin" (expected: open, won, lost).',
        (2, "owner_email"): 'Not an email address: "dana@".',
        (2, "created_at"): 'Not a date and time: "yesterday" (use ISO 8601).',
        (2, "currency"): 'Longer than 3 characters (4): "EURO".',
    }


def test_reference_errors_quote_the_value_not_found(rep_a, process, dry_run):
    AccountFactory(owner=rep_a, name="Twin")
    AccountFactory(owner=rep_a, name="Twin")
    reasons = dry_run(
        rep_a,
        "opportunities",
        "account_name,name,amount,expected_close_on,owner_email,process\n"
        "Nowhere Inc,Deal,1,2026-06-30,ghost@example.com,Enterprise\n"
        "Twin,Deal,1,2026-06-30,,\n",
    )
    activities = dry_run(
        rep_a,
        "activities",
        "opportunity_external_id,account_external_id,kind,duration_minutes\n"
        "OPP-9,ACC-9,call,99999999\n",
    )

    # An account name not found is no error: the account is created with the deal.
    assert reasons == {
        (2, "owner_email"): 'No one with the email "ghost@example.com" in your team.',
        (2, "process"): 'No sales process named "Enterprise".',
        (3, "account_name"): 'Several accounts are named "Twin"; use account_external_id.',
    }
    assert activities == {
        (2, "duration_minutes"): '"99999999": must be between 0 and 44640.',
        (2, "opportunity_external_id"): 'No opportunity with external id "OPP-9".',
        (2, "account_external_id"): 'No account with external id "ACC-9".',
    }


def test_people_errors_quote_the_email(admin_user, dry_run):
    reasons = dry_run(
        admin_user,
        "users",
        "email,name,manager_email,role\n"
        "ann@example.com,Ann,boss@example.com,Seller\n"
        "ann@example.com,Ann again,,\n",
    )

    assert reasons == {
        (2, "role"): (
            'Unknown role "Seller" (expected: rep, manager, executive, admin, integrator).'
        ),
        (2, "manager_email"): (
            'No one with the email "boss@example.com" in the file or in salesmgmt.'
        ),
        (3, "email"): 'Repeats an earlier row\'s email "ann@example.com".',
    }


def test_closed_deal_messages_name_the_status_and_the_category(rep_a, process, dry_run):
    AccountFactory(owner=rep_a, name="Acme")
    reasons = dry_run(
        rep_a,
        "opportunities",
        "account_name,name,amount,expected_close_on,status,closed_on,forecast_category\n"
        "Acme,Deal,1,2026-06-30,lost,,commit\n",
    )

    assert reasons == {
        (2, "closed_on"): "Give the close date of a lost deal.",
        (2, "forecast_category"): (
            'Only an open deal gets a forecast category ("commit" given): '
            "leave it blank for a lost deal."
        ),
    }
