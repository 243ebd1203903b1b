"""The dry run's summary: problems grouped by kind with counts and first examples, ignored
columns, rows ok; the full list a page at a time (issue 15)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from csv_import.problems import problem_summary, problems_grouped
from salesmgmt.models import ImportJob
from tests.factories import AccountFactory

TYPOS = {5: "Engagin", 17: "wonn", 29: "Clsoed"}  # data row number → the status given


def messy_export(rows: int = 40) -> str:
    """A CRM export as it comes: people by name only, stages as text, an office column the
    import does not know, a few typo'd statuses and some deals without a close date."""
    lines = ["Opportunity,Account External ID,Owner,Amount,Close date,Status,Stage,Office"]
    for n in range(1, rows + 1):
        owner = "Ann Smith" if n % 2 else "Bob Jones"
        close = "" if n % 10 == 0 else "2030-03-31"
        status = TYPOS.get(n, "open")
        # "discover": a stage of the process, written as the old CRM writes it (case aside).
        lines.append(f"Deal {n},A-1,{owner},{100 * n},{close},{status},discover,Boston")
    return "\n".join(lines) + "\n"


@pytest.fixture
def upload(api_client_for, django_capture_on_commit_callbacks):
    """Upload a CSV through the API as ``user`` (a dry run by default), run it in-process and
    return the job as the API shows it."""

    def send(user, kind, text, dry_run=True):
        client = api_client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/",
                {"kind": kind, "content": text, "dry_run": dry_run},
                format="json",
            )
        assert response.status_code == 202, response.content
        return client.get(f"/api/v1/imports/{response.json()['id']}/").json()

    return send


def by_column(job: dict) -> dict[str, dict]:
    groups = {group["column"]: group for group in job["problems"]}
    assert len(groups) == len(job["problems"]), "each problem class is named once"
    return groups


def test_a_messy_export_is_summarised_once_per_kind_of_problem(rep_a, process, upload):
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")

    job = upload(rep_a, "opportunities", messy_export(40))

    assert (job["status"], job["rows_total"]) == ("failed", 40)
    assert (job["rows_ok"], job["rows_with_problems"]) == (0, 40)
    assert job["summary"]["ignored_columns"] == ["Office"]
    groups = by_column(job)
    assert list(groups) == ["owner_email", "expected_close_on", "status"]  # most frequent first
    owner = groups["owner_email"]
    # On every row: one line, not forty.
    assert (owner["count"], owner["rows"], owner["every_row"]) == (40, 40, True)
    assert owner["message"] == 'Not an email address: "…".'
    assert [(e["row"], e["value"]) for e in owner["examples"]] == [
        (2, "Ann Smith"),
        (3, "Bob Jones"),
        (4, "Ann Smith"),
        (5, "Bob Jones"),
        (6, "Ann Smith"),
    ]
    status = groups["status"]
    assert (status["count"], status["rows"], status["every_row"]) == (3, 3, False)
    assert status["message"] == 'Unknown status "…" (expected: open, won, lost).'
    # Line = data row + 1 (the header is line 1); each example quotes its own value.
    assert [(e["row"], e["value"]) for e in status["examples"]] == [
        (6, "Engagin"),
        (18, "wonn"),
        (30, "Clsoed"),
    ]
    assert 'Unknown status "wonn"' in status["examples"][1]["reason"]
    close = groups["expected_close_on"]
    assert (close["count"], close["rows"], close["message"]) == (4, 4, "Required.")
    assert [e["row"] for e in close["examples"]] == [11, 21, 31, 41]
    assert len(job["errors"]) == 40 + 4 + 3  # the full list stays, for existing clients


def test_rows_ok_count_the_rows_that_would_import(rep_a, process, upload):
    AccountFactory(owner=rep_a, external_id="A-1", name="Acme")
    text = messy_export(12).replace("Ann Smith", rep_a.email).replace("Bob Jones", rep_a.email)

    job = upload(rep_a, "opportunities", text)

    assert (job["rows_ok"], job["rows_with_problems"]) == (10, 2)  # row 5 typo, row 10 no date
    # Equal counts: in the order the file first shows them.
    assert [(g["column"], g["count"], g["every_row"]) for g in job["problems"]] == [
        ("status", 1, False),
        ("expected_close_on", 1, False),
    ]


def test_a_clean_dry_run_has_every_row_ok_and_no_problems(rep_a, upload):
    job = upload(rep_a, "accounts", "name,Colour\nAcme,red\nGlobex,blue\n")

    assert job["status"] == "succeeded"
    assert (job["rows_ok"], job["rows_with_problems"], job["problems"]) == (2, 0, [])
    assert job["summary"]["ignored_columns"] == ["Colour"]


def test_grouping_leaves_out_values_and_counts_but_keeps_columns_apart():
    errors = [
        {"row": 2, "column": "amount", "reason": 'Not a number: "12k".'},
        {"row": 3, "column": "employee_count", "reason": 'Not a number: "many".'},
        {"row": 4, "column": "amount", "reason": 'Not a number: "1,2,3".'},
        {"row": 4, "column": "", "reason": 'Has 9 fields but the header has 8; extra values: "x".'},
        {
            "row": 7,
            "column": "",
            "reason": 'Has 10 fields but the header has 8; extra values: "y".',
        },
        *({"row": n, "column": "amount", "reason": f'Not a number: "{n}x".'} for n in range(5, 12)),
    ]

    groups = problems_grouped(errors, rows_total=20)

    assert [(g.column, g.message, g.count, g.rows) for g in groups] == [
        ("amount", 'Not a number: "…".', 9, 9),
        ("", 'Has 9 fields but the header has 8; extra values: "…".', 2, 2),
        ("employee_count", 'Not a number: "…".', 1, 1),
    ]
    assert [e.value for e in groups[0].examples] == ["12k", "1,2,3", "5x", "6x", "7x"]
    assert not any(g.every_row for g in groups)


def test_a_problem_of_the_file_itself_leaves_no_row_ok():
    errors = [{"row": 1, "column": "name", "reason": "Required column is missing."}]

    summary = problem_summary(errors, rows_total=3)

    assert (summary["rows_ok"], summary["rows_with_problems"]) == (0, 0)
    assert summary["problems"][0]["examples"][0]["row"] == 1
    assert summary["problems"][0]["every_row"] is False  # a header line is not a data row


def failed_job(user, errors_count: int) -> ImportJob:
    """A finished dry run of ``errors_count`` rows, a typo'd status on each (a handful of
    values) and an unknown column; its summary stored as a job stores it."""
    errors = [
        {
            "row": n + 2,
            "column": "status",
            "reason": f'Unknown status "Engagin{n % 7}" (expected: open, won, lost).',
        }
        for n in range(errors_count)
    ]
    summary = {"created": 0, "updated": 0, "ignored_columns": ["Office"]}
    return ImportJob.objects.create(
        kind="opportunities",
        created_by=user,
        content="name\n",
        status="failed",
        rows_total=errors_count,
        rows_done=0,
        errors=errors,
        summary={**summary, **problem_summary(errors, errors_count)},
    )


def page_of(client, job: ImportJob, **query) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("import_job", args=[job.pk]), query)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_job_page_shows_the_summary_first_then_the_list_a_page_at_a_time(client, rep_a):
    client.force_login(rep_a)
    job = failed_job(rep_a, 250)

    first, _ = page_of(client, job)
    third, _ = page_of(client, job, errors_page=3)

    summary_at = first.index("These columns were not read: Office")
    groups_at = first.index("Problems by kind")
    list_at = first.index("Problems by row")
    assert summary_at < groups_at < list_at
    assert "<strong>250</strong> rows: <strong>0</strong> ok, <strong>250</strong>" in first
    assert "Unknown status &quot;…&quot; (expected: open, won, lost)." in first
    assert "<strong>Every row:</strong> Unknown status" in first
    assert "on all 250 rows" in first
    rows = re.compile(r'<tr><td class="num">(\d+)</td><td>status</td>')
    assert [int(r) for r in rows.findall(first)] == list(range(2, 102))
    assert [int(r) for r in rows.findall(third)] == list(range(202, 252))
    assert "201\N{EN DASH}250 of 250" in third


def test_job_page_examples_quote_the_values_with_their_lines(client, rep_a):
    client.force_login(rep_a)
    errors = [
        {"row": 4, "column": "status", "reason": 'Unknown status "wonn" (expected: open).'},
        {"row": 9, "column": "status", "reason": 'Unknown status "Clsoed" (expected: open).'},
    ]
    job = failed_job(rep_a, 0)
    job.rows_total, job.errors = 20, errors
    job.summary = {"ignored_columns": []}  # stored before the summary had the problems
    job.save()

    html, _ = page_of(client, job)

    assert "line 4: “wonn”; line 9: “Clsoed”" in html
    assert "<strong>18</strong> ok" in html
    assert "These columns were not read" not in html


def test_job_page_of_ten_thousand_problems_is_bounded(client, rep_a):
    client.force_login(rep_a)
    small, large = failed_job(rep_a, 100), failed_job(rep_a, 10_000)

    page_of(client, small)  # warm up (session, content types)
    _, small_queries = page_of(client, small)
    html, large_queries = page_of(client, large)
    last, _ = page_of(client, large, errors_page=100)

    # session, user, the job: the same for 100 problems and for 10,000.
    assert large_queries == small_queries
    assert len(html.encode()) < 120_000  # 100 rows of the list, not a 1 MB page
    assert html.count("<td>status</td><td>Unknown status") == 100
    assert "9901\N{EN DASH}10000 of 10000" in last


def test_api_gives_the_groups_and_a_page_of_errors_on_request(rep_a, api_client_for):
    job = failed_job(rep_a, 250)
    client = api_client_for(rep_a)
    url = f"/api/v1/imports/{job.pk}/"

    whole = client.get(url).json()
    third = client.get(url, {"errors_page": 3}).json()
    listing = client.get("/api/v1/imports/").json()

    assert len(whole["errors"]) == 250  # existing clients still get every error
    assert [e["row"] for e in third["errors"]] == list(range(202, 252))
    assert third["errors_count"] == whole["errors_count"] == 250
    assert (third["rows_ok"], third["rows_with_problems"]) == (0, 250)
    [group] = third["problems"]
    assert (group["column"], group["count"], group["every_row"]) == ("status", 250, True)
    assert [e["value"] for e in group["examples"]] == [f"Engagin{n}" for n in range(5)]
    assert listing["results"][0]["problems"] == third["problems"]


def test_schema_documents_the_summary_fields(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())

    job = schema["components"]["schemas"]["ImportJob"]["properties"]
    assert {"problems", "rows_ok", "rows_with_problems", "errors", "errors_count"} <= set(job)
    group = schema["components"]["schemas"]["ImportProblemGroup"]["properties"]
    assert set(group) == {"column", "message", "count", "rows", "every_row", "examples"}
    retrieve = schema["paths"]["/api/v1/imports/{id}/"]["get"]
    assert "errors_page" in {p["name"] for p in retrieve["parameters"]}


def test_a_running_job_claims_no_row_ok_yet(rep_a, api_client_for):
    job = ImportJob.objects.create(
        kind="accounts", created_by=rep_a, content="name\n", status="running", rows_total=10
    )

    body = api_client_for(rep_a).get(f"/api/v1/imports/{job.pk}/").json()

    assert (body["rows_ok"], body["rows_with_problems"], body["problems"]) == (0, 0, [])
