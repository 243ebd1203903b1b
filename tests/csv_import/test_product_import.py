"""The products import: a Maven-like catalogue file (product, series, sales_price) loads as
it is; re-imports update by external_id, then by name; only catalogue keepers may run it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Product
from csv_import import specs
from tests.accounts.products import make_product

# The public sample CRM export's products table, as shipped (header and all).
MAVEN_PRODUCTS = """product,series,sales_price
GTX Basic,GTX,550
GTX Pro,GTX,4821
MG Special,MG,55
MG Advanced,MG,3393
GTX Plus Pro,GTX,5482
GTX Plus Basic,GTX,1096
GTK 500,GTK,26768
"""


@pytest.fixture
def run(api_client_for, django_capture_on_commit_callbacks):
    """Upload a CSV through the API as ``user`` and run the job in-process."""

    def upload(user, text, dry_run=False):
        client: APIClient = api_client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/imports/",
                {"kind": "products", "content": text, "dry_run": dry_run},
                format="json",
            )
        if response.status_code != 202:
            return response
        return client.get(f"/api/v1/imports/{response.json()['id']}/").json()

    return upload


def test_the_maven_products_file_imports_as_it_is(admin_user, run):
    job = run(admin_user, MAVEN_PRODUCTS)

    assert job["status"] == "succeeded", job
    assert (job["summary"]["created"], job["summary"]["ignored_columns"]) == (7, [])
    rows = {p.name: (p.family, p.list_price, p.currency) for p in Product.objects.all()}
    assert rows["GTX Plus Pro"] == ("GTX", Decimal(5482), "USD")
    assert rows["GTK 500"] == ("GTK", Decimal(26768), "USD")
    assert rows["MG Special"] == ("MG", Decimal(55), "USD")
    assert len(rows) == 7


def test_a_dry_run_writes_nothing(admin_user, run):
    job = run(admin_user, MAVEN_PRODUCTS, dry_run=True)
    assert (job["status"], job["rows_ok"]) == ("succeeded", 7)
    assert not Product.objects.exists()


def test_a_reimport_updates_by_name_then_by_external_id(admin_user, run):
    make_product("GTX Pro", "4000", family="Old")
    job = run(admin_user, MAVEN_PRODUCTS)
    assert (job["summary"]["created"], job["summary"]["updated"]) == (6, 1)
    assert Product.objects.get(name="GTX Pro").list_price == Decimal(4821)

    with_ids = (
        "Product Name,Product Family,List Price,Currency,External ID\nGTX Pro,GTX,4821,USD,PRD-2\n"
    )
    run(admin_user, with_ids)
    renamed = "name,family,price,external_id\nGTX Pro 2027,GTX,4999,PRD-2\n"
    job = run(admin_user, renamed)
    assert (job["summary"]["created"], job["summary"]["updated"]) == (0, 1)
    product = Product.objects.get(external_id="PRD-2")
    assert (product.name, product.list_price) == ("GTX Pro 2027", Decimal(4999))
    assert Product.objects.count() == 7


def test_bad_rows_import_nothing_and_quote_the_value(admin_user, run):
    text = (
        "product,series,sales_price\n"
        "GTX Basic,GTX,550\n"
        ",GTX,10\n"  # line 3: no name
        "MG Special,MG,cheap\n"  # line 4: not a number
        "GTX Basic,GTX,560\n"  # line 5: repeated
    )
    job = run(admin_user, text)

    assert job["status"] == "failed"
    assert not Product.objects.exists()
    problems = {(e["row"], e["column"]) for e in job["errors"]}
    assert problems == {(3, "name"), (4, "list_price"), (5, "name")}
    repeated = next(e for e in job["errors"] if e["row"] == 5)
    assert "GTX Basic" in repeated["reason"]


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_sellers_cannot_import_the_catalogue(personas, persona, run):
    job = run(personas[persona], MAVEN_PRODUCTS)
    assert job["status"] == "failed"
    assert "administrators" in str(job["errors"])
    assert not Product.objects.exists()


def test_the_spec_documents_the_columns_and_aliases():
    spec = specs.spec_for("products")
    assert spec.column("name").required
    assert {"series", "product_family"} <= spec.column("family").spellings()
    assert {"sales_price", "price", "list_price"} <= spec.column("list_price").spellings()
    assert [c.name for c in spec.columns] == [
        "name",
        "family",
        "list_price",
        "currency",
        "external_id",
    ]
