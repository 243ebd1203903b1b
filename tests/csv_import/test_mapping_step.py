"""The mapping step through the pages (as a browser posts them) and the API: suggestions
shown, choices kept per kind for the same headers, gaps filled, bad input refused."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Opportunity, Product
from salesmgmt.models import ImportJob, ImportMapping
from tests.factories import AccountFactory, UserFactory

# A sales_pipeline.csv as the public sample has it: no deal names, names not e-mails, text
# stages, blank engage dates, close dates and values on open deals, accountless rows.
MAVEN = """opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054
Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Won,2016-10-25,2017-03-11,4514
EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Lost,2016-10-25,2017-03-07,0
MV1LWRNH,Moses Frase,GTX Basic,Codehow,Engaging,2016-10-25,,
PE84CX4O,Zane Levy,GTX Basic,,Prospecting,,,
ZNBS69V1,Anna Snelling,MG Special,Ron-tech,Engaging,2016-10-29,,
"""


@pytest.fixture
def catalogue(db):
    for name, price in [("GTX Basic", "550"), ("GTX Pro", "4821"), ("MG Special", "55")]:
        Product.objects.create(name=name, list_price=Decimal(price))
    Product.objects.create(name="GTX Plus Basic", list_price=Decimal("1096"))


def upload(client, text: str, kind="opportunities", **extra):
    return client.post(
        reverse("imports"),
        {
            "kind": kind,
            "file": SimpleUploadedFile("sales_pipeline.csv", text.encode(), "text/csv"),
            "dry_run": "on",
            "map_first": "on",
            **extra,
        },
    )


def selected(page: str, name: str) -> str:
    """The option selected in the <select name=...> of the page ("" if none)."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen.group(1) if chosen else ""


def test_upload_shows_the_mapping_step_with_suggestions(client, rep_a, process, catalogue):
    client.force_login(rep_a)

    response = upload(client, MAVEN)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.MAPPING
    assert response.url == reverse("import_mapping", args=[job.pk])
    # The job page sends a job waiting for its mapping back to the mapping step.
    assert client.get(reverse("import_job", args=[job.pk])).url == response.url
    page = client.get(response.url).content.decode()
    headers = MAVEN.splitlines()[0].split(",")
    expected = ["external_id", "owner_name", "product", "account_name", "stage", "created_at"]
    assert [selected(page, f"column-{i}") for i in range(6)] == expected
    assert selected(page, "also-4") == "status"  # the text stage also gives the status
    assert selected(page, "column-7") == "amount"
    assert "deal_stage" in page
    assert headers[0] in page
    # Values: stage names of the default process, the catalogue, status synonyms.
    rows = re.findall(r'name="value-status-(\d+)-text" value="([^"]+)"', page)
    status = {text: selected(page, f"value-status-{i}") for i, text in rows}
    assert status == {"Won": "won", "Lost": "lost", "Engaging": "open", "Prospecting": "open"}
    products = re.findall(r'name="value-product-(\d+)-text" value="([^"]+)"', page)
    chosen = {text: selected(page, f"value-product-{i}") for i, text in products}
    assert chosen["GTXPro"] == "GTX Pro"
    assert 'data-option="amount"' in page
    assert "<strong>3 open rows have no amount</strong>" in page


def post_mapping(client, job, page: str, action: str, **changes) -> object:
    """Post the mapping form as the browser would: every field as shown, then ``changes``."""
    data = {"action": action, "remember": "on"}
    for name in re.findall(r'<select[^>]*name="([^"]+)"', page):
        data[name] = selected(page, name)
    data.update(re.findall(r'<input type="hidden" name="([^"]+-text)" value="([^"]*)"', page))
    for name, value in re.findall(
        r'<input type="radio" name="([^"]+)" value="([^"]+)" checked>', page
    ):
        data[name] = value
    data.update(changes)
    return client.post(reverse("import_mapping", args=[job.pk]), data)


def test_confirming_the_mapping_runs_the_dry_run_with_the_choices(
    client, manager_a, rep_a, process, catalogue, django_capture_on_commit_callbacks
):
    # The file's agents, known by name only, in the importing manager's team.
    for name in ("Moses Frase", "Darcel Schlecht", "Zane Levy", "Anna Snelling"):
        first, last = name.split()
        UserFactory(first_name=first, last_name=last, manager=manager_a)
    client.force_login(manager_a)
    for name in ("Cancity", "Isdom", "Codehow", "Ron-tech"):
        AccountFactory(owner=rep_a, name=name)
    upload(client, MAVEN)
    job = ImportJob.objects.get()
    page = client.get(reverse("import_mapping", args=[job.pk])).content.decode()
    stages = dict(re.findall(r'name="value-stage-(\d+)-text" value="([^"]+)"', page))
    stage_fields = {text: f"value-stage-{i}" for i, text in stages.items()}

    with django_capture_on_commit_callbacks(execute=True):
        response = post_mapping(
            client,
            job,
            page,
            "run",
            **{stage_fields["Engaging"]: "Discover", stage_fields["Prospecting"]: "Qualify"},
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.column_map["deal_stage"] == ["stage", "status"]
    assert job.value_map["status"]["Won"] == "won"
    assert job.value_map["stage"]["Engaging"] == "Discover"
    assert job.options["amount"] == "list_price"
    defaulted = {d["option"]: d for d in job.summary["defaulted"]}
    assert defaulted["account"]["count"] == 1
    assert defaulted["account"]["rows"] == [6]
    assert defaulted["amount"]["count"] == 3
    assert defaulted["name"]["count"] == 6
    # No closed_on column: the won and lost rows close on their close date, as suggested.
    assert job.options["closed_on"] == "expected_close_on"
    assert defaulted["closed_on"]["rows"] == [2, 3, 4]
    assert not Opportunity.objects.exists()  # a dry run
    saved = ImportMapping.objects.get(kind="opportunities")
    assert saved.column_map["close_value"] == ["amount"]
    assert saved.value_map["stage"]["Engaging"] == "Discover"
    page = client.get(reverse("import_job", args=[job.pk])).content.decode()
    assert "Gaps filled as you chose" in page
    assert "1 row has no account: attach them to an account named" in page
    assert "“deal_stage” → <code>stage</code> and <code>status</code>" in page
    assert "“Engaging” → Discover" in page

    # Imported for real: the same file, read the same way, all rows or none.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_job", args=[job.pk]))
    real = ImportJob.objects.exclude(pk=job.pk).get()
    assert (real.status, real.dry_run) == (ImportJob.Status.SUCCEEDED, False), real.errors
    assert (real.value_map, real.options) == (job.value_map, job.options)
    deals = Opportunity.objects.order_by("external_id")
    assert deals.count() == 6
    pilot = deals.get(external_id="MV1LWRNH")
    assert (pilot.status, pilot.amount, pilot.name) == (
        "open",
        Decimal("550.00"),
        "Codehow · GTX Basic (MV1LWRNH)",
    )
    assert deals.get(external_id="PE84CX4O").account.name == "(No account)"
    lost = deals.get(external_id="EC4QE1BX")
    assert (lost.status, str(lost.closed_on)) == ("lost", "2017-03-07")


def test_the_saved_mapping_is_offered_for_the_same_headers(client, rep_a, process, catalogue):
    client.force_login(rep_a)
    header = MAVEN.splitlines()[0]
    ImportMapping.objects.create(
        kind="opportunities",
        headers_key=__import__("csv_import.mapping", fromlist=["x"]).headers_key(
            reversed(header.split(","))
        ),
        headers=header.split(","),
        column_map={"close_value": "", "opportunity_id": ["external_id", "name"]},
        value_map={"stage": {"Engaging": "Propose"}},
    )

    upload(client, MAVEN)
    job = ImportJob.objects.get()
    page = client.get(reverse("import_mapping", args=[job.pk])).content.decode()

    assert "The mapping saved last time for these headers is filled in." in page
    assert selected(page, "column-7") == ""  # close_value ignored, as saved
    assert (selected(page, "column-0"), selected(page, "also-0")) == ("external_id", "name")
    stages = dict(re.findall(r'name="value-stage-(\d+)-text" value="([^"]+)"', page))
    engaging = next(i for i, text in stages.items() if text == "Engaging")
    assert selected(page, f"value-stage-{engaging}") == "Propose"


def test_changing_a_header_shows_the_values_of_its_new_column(client, rep_a, process):
    client.force_login(rep_a)
    upload(client, MAVEN)
    job = ImportJob.objects.get()
    page = client.get(reverse("import_mapping", args=[job.pk])).content.decode()

    response = post_mapping(client, job, page, "refresh", **{"column-4": "status", "also-4": ""})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-values="status"' in page
    assert 'data-values="stage"' not in page
    assert (selected(page, "column-4"), selected(page, "also-4")) == ("status", "")
    assert "your choice" in page
    assert ImportJob.objects.get().status == ImportJob.Status.MAPPING


def test_a_bad_mapping_is_refused_on_the_page(client, rep_a, process):
    client.force_login(rep_a)
    upload(client, MAVEN)
    job = ImportJob.objects.get()
    page = client.get(reverse("import_mapping", args=[job.pk])).content.decode()

    response = post_mapping(
        client, job, page, "run", **{"column-1": "amount", "option-amount": "guess"}
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Several headers map to: amount." in text
    assert "amount: Unknown answer “guess”" in text
    assert ImportJob.objects.get().status == ImportJob.Status.MAPPING
    assert not ImportMapping.objects.exists()


def test_someone_else_cannot_see_or_map_your_upload(client, rep_a, rep_b, process):
    client.force_login(rep_a)
    upload(client, MAVEN)
    job = ImportJob.objects.get()
    client.force_login(rep_b)

    assert client.get(reverse("import_mapping", args=[job.pk])).status_code == 404
    assert client.post(reverse("import_mapping", args=[job.pk]), {}).status_code == 404


# --- API -----------------------------------------------------------------------------------

SALESFORCE = (
    "Opportunity Name,Account Name,Amount,Close Date,Stage,Opportunity Owner,Created Date\n"
    "Plant rollout,Acme,48k,2026-06-30,Closed Won,Dana Reyes,2026-01-15\n"
    "Pilot,Acme,12000,2026-07-31,Prospecting,Dana Reyes,\n"
    "Renewal,,15000,2026-08-31,Negotiation/Review,Sam Okafor,2026-02-01\n"
)


def test_the_api_suggests_a_mapping_for_a_file(rep_a, process, api_client_for):
    client = api_client_for(rep_a)

    response = client.post(
        "/api/v1/imports/suggest/",
        {"kind": "opportunities", "content": SALESFORCE},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["preset"] == "Salesforce"
    columns = {h["header"]: h["columns"] for h in body["headers"]}
    assert columns["Stage"] == ["stage", "status"]
    assert columns["Opportunity Owner"] == ["owner_name"]
    values = {
        v["column"]: {x["value"]: x["suggested"] for x in v["values"]} for v in body["values"]
    }
    assert values["status"] == {
        "Closed Won": "won",
        "Prospecting": "open",
        "Negotiation/Review": "",
    }
    assert values["stage"]["Prospecting"] == ""  # no such stage in the process
    options = {o["name"]: o for o in body["options"]}
    assert options["account"]["count"] == 1
    assert options["created_at"]["count"] == 1
    assert not ImportJob.objects.exists()


def test_the_api_runs_a_job_with_a_value_map_and_options(
    rep_a, process, api_client_for, django_capture_on_commit_callbacks
):
    client = api_client_for(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {
                "kind": "opportunities",
                "content": SALESFORCE,
                "map_first": True,
            },
            format="json",
        )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "mapping"
    job_id = response.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/imports/{job_id}/mapping/",
            {
                "column_map": {"Stage": ["stage", "status"], "Opportunity Owner": ""},
                "value_map": {
                    "status": {"Closed Won": "won", "Negotiation/Review": "open"},
                    "stage": {"Closed Won": "", "Prospecting": "Qualify"},
                },
                "options": {"account": "placeholder", "created_at": "close_date"},
            },
            format="json",
        )

    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/imports/{job_id}/").json()
    assert job["status"] in ("succeeded", "failed")
    assert job["value_map"]["status"]["Closed Won"] == "won"
    defaulted = {d["option"]: d for d in job["summary"]["defaulted"]}
    assert defaulted["account"]["rows"] == [4]
    assert defaulted["created_at"]["count"] == 1
    suspicious = job["summary"]["suspicious"]
    assert suspicious[0]["column"] == "amount"
    assert suspicious[0]["examples"] == [{"row": 2, "value": "48k"}]
    assert ImportMapping.objects.get().column_map["Opportunity Owner"] == []
    # Mapped once: a second mapping is refused.
    again = client.post(f"/api/v1/imports/{job_id}/mapping/", {"column_map": {}}, format="json")
    assert again.status_code == 400


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"column_map": {"Stage": "stge"}}, "column_map"),
        ({"column_map": {"Stage": 3}}, "column_map"),
        ({"value_map": {"status": "won"}}, "value_map"),
        ({"value_map": {"colour": {"red": "won"}}}, "value_map"),
        ({"options": {"amount": "guess"}}, "options"),
        ({"options": {"weather": "sunny"}}, "options"),
    ],
)
def test_the_api_refuses_bad_mappings_with_field_messages(rep_a, api_client_for, payload, field):
    client = api_client_for(rep_a)

    upload_response = client.post(
        "/api/v1/imports/",
        {"kind": "opportunities", "content": SALESFORCE, **payload},
        format="json",
    )
    suggest_response = client.post(
        "/api/v1/imports/suggest/",
        {"kind": "opportunities", "content": SALESFORCE, **payload},
        format="json",
    )

    assert upload_response.status_code == 400
    assert field in upload_response.json()["fields"], upload_response.json()
    assert suggest_response.status_code == 400
    assert field in suggest_response.json()["fields"], suggest_response.json()
    assert not ImportJob.objects.exists()


def test_the_api_saves_a_mapping_for_a_set_of_headers(rep_a, api_client_for):
    client = api_client_for(rep_a)
    headers = ["Deal Name", "Amount", "Stage"]

    response = client.post(
        "/api/v1/imports/mappings/",
        {
            "kind": "opportunities",
            "headers": headers,
            "column_map": {"Stage": ["stage", "status"]},
            "options": {"amount": "zero"},
        },
        format="json",
    )
    bad = client.post(
        "/api/v1/imports/mappings/",
        {"kind": "opportunities", "headers": [], "column_map": {}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["column_map"] == {"Stage": ["stage", "status"]}
    assert bad.status_code == 400
    assert "headers" in bad.json()["fields"]
    suggested = client.post(
        "/api/v1/imports/suggest/",
        {"kind": "opportunities", "content": "stage,deal name,AMOUNT\nWon,X,1\n"},
        format="json",
    ).json()
    assert suggested["saved"] is True
    assert {h["header"]: h["how"] for h in suggested["headers"]}["stage"] == "saved"


def test_the_schema_documents_the_mapping_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "post" in paths["/api/v1/imports/suggest/"]
    assert "post" in paths["/api/v1/imports/{id}/mapping/"]
    assert "post" in paths["/api/v1/imports/mappings/"]
    upload = schema["components"]["schemas"]["ImportUploadRequest"]["properties"]
    assert {"column_map", "value_map", "options", "map_first"} <= set(upload)


def test_a_column_map_sent_with_the_upload_starts_the_mapping_step(client, rep_a, process):
    client.force_login(rep_a)

    upload(client, MAVEN, column_map="Close Value = next_step\nopportunity_id = external_id, name")
    job = ImportJob.objects.get()
    page = client.get(reverse("import_mapping", args=[job.pk])).content.decode()

    assert selected(page, "column-7") == "next_step"
    assert (selected(page, "column-0"), selected(page, "also-0")) == ("external_id", "name")
    assert selected(page, "column-1") == "owner_name"  # not named: the suggestion


def test_the_crm_export_fixture_is_mapped_and_read_without_reshaping(rep_a, db):
    """The shared sales_pipeline.csv (4,000 deals): suggestions alone read every row; the
    figures match pandas over the same file."""
    from pathlib import Path

    import pandas as pd

    from csv_import import parsing, specs
    from csv_import.selectors.mapping import import_review_context, import_suggestions
    from tests.factories import build_process

    build_process(stages=(("Prospecting", 1), ("Engaging", 1)))
    folder = Path(__file__).parents[1] / "fixtures" / "data" / "crm_export"
    catalogue = pd.read_csv(folder / "products.csv")
    for row in catalogue.itertuples():
        Product.objects.create(name=row.product, list_price=Decimal(str(row.sales_price)))
    text = (folder / "sales_pipeline.csv").read_text()
    frame = pd.read_csv(folder / "sales_pipeline.csv", dtype=str, keep_default_na=False)

    suggestions = import_suggestions(kind="opportunities", text=text)
    column_map = {row["header"]: row["columns"] for row in suggestions.headers}
    value_map = {
        entry["column"]: {v["value"]: v["chosen"] for v in entry["values"]}
        for entry in suggestions.values
    }
    options = {option["name"]: option["chosen"] for option in suggestions.options}
    parsed = parsing.parse(
        text,
        specs.spec_for("opportunities"),
        column_map,
        value_map=value_map,
        options=options,
        context=import_review_context(),
    )

    assert column_map["deal_stage"] == ["stage", "status"]
    assert value_map["product"]["GTXPro"] == "GTX Pro"
    assert value_map["stage"] == {"Engaging": "Engaging", "Prospecting": "Prospecting"} | {
        "Won": "",
        "Lost": "",
    }
    assert parsed.errors == []
    records = pd.DataFrame(parsed.records)
    expected = frame["deal_stage"].map({"Won": "won", "Lost": "lost"}).fillna("open")
    assert records["status"].value_counts().to_dict() == expected.value_counts().to_dict()
    won = frame["deal_stage"] == "Won"
    assert sum(records.loc[won.to_numpy(), "amount"]) == int(
        frame.loc[won, "close_value"].astype(int).sum()
    )
    defaulted = {d["option"]: d["count"] for d in parsed.defaulted}
    assert defaulted["account"] == (frame["account"] == "").sum()
    assert defaulted["created_at"] == (frame["engage_date"] == "").sum()
