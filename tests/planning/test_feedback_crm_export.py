"""The feed-back report over a real CRM export: tests/fixtures/data/crm_export/ imported through
the import jobs (products, people, deals, accounts, each mapped as the mapping step suggests),
then the report of each quarter of 2024 by lead source, product and segment against pandas
over the same files (no app code in the expected figures).

The export has no lead source column: every closed deal is in the "(none)" lead source. Its
product column names a product on every deal (one typo, "GTXPro", mapped to "GTX Pro"); the
test blanks the product of the closed deals of one account so the "(none)" product row is exercised.
Segments: "Enterprise" (1,000 employees or more, by the accounts file); every other account,
and the deals with no account (imported under a default one), are "Unassigned".
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from django.urls import reverse

from csv_import.jobs import create_import_job
from csv_import.selectors.mapping import import_suggestions
from planning import services
from planning.analytics import ALL_DEALS, NO_PRODUCT, NO_SOURCE, UNASSIGNED
from planning.feedback import feedback_report
from salesmgmt.models import ImportJob, Period
from salesmgmt.services import periods_ensure
from tests.e2e.crm_expected import DEAL_GAP_ANSWERS, FIXTURE_DIR
from tests.factories import build_process

# The open stages of the file, in order.
STAGES = (("Prospecting", 1), ("Engaging", 1))
# The account whose deals lose their product in the file the test imports.
NO_PRODUCT_ACCOUNT = "Maple Works"
ENTERPRISE_EMPLOYEES = 1000


def _pipeline_text() -> str:
    """sales_pipeline.csv with the product of ``NO_PRODUCT_ACCOUNT``'s closed deals blanked
    (an open deal without an amount takes its product's list price: it keeps its product)."""
    frame = pd.read_csv(FIXTURE_DIR / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    closed = frame["deal_stage"].isin(["Won", "Lost"])
    frame.loc[closed & (frame["account"] == NO_PRODUCT_ACCOUNT), "product"] = ""
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue()


def _import(actor, kind: str, text: str, gaps: dict[str, str] | None = None) -> ImportJob:
    """One file through an import job, mapped as the mapping step suggests (and ``gaps``
    answered), for real."""
    suggestions = import_suggestions(kind=kind, text=text)
    job = create_import_job(
        actor=actor,
        kind=kind,
        content=text,
        dry_run=False,
        column_map={row["header"]: row["columns"] for row in suggestions.headers},
        value_map={
            entry["column"]: {v["value"]: v["chosen"] for v in entry["values"]}
            for entry in suggestions.values
        },
        options={
            **{option["name"]: option["chosen"] for option in suggestions.options},
            **(gaps or {}),
        },
        in_session=True,  # as on the import pages: an administrator's people import sets roles
    )
    return ImportJob.objects.get(pk=job.pk)


def _expected_closed(text: str) -> pd.DataFrame:
    """The file's won and lost deals with their product, segment and quarter (pandas only)."""
    deals = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    accounts = pd.read_csv(FIXTURE_DIR / "accounts.csv", dtype=str, keep_default_na=False)
    closed = deals[deals["deal_stage"].isin(["Won", "Lost"])].copy()
    closed["won"] = closed["deal_stage"] == "Won"
    closed["value"] = pd.to_numeric(closed["close_value"]).where(closed["won"], 0.0)
    closed["product"] = closed["product"].replace({"GTXPro": "GTX Pro", "": NO_PRODUCT})
    employees = accounts.set_index("account")["employees"].replace("", None).astype(float)
    big = closed["account"].map(employees) >= ENTERPRISE_EMPLOYEES
    closed["segment"] = big.map({True: "Enterprise", False: UNASSIGNED})
    closed["quarter"] = pd.PeriodIndex(pd.to_datetime(closed["close_date"]), freq="Q").astype(str)
    return closed


def _by(closed: pd.DataFrame, key: str) -> dict[str, tuple[int, int, float]]:
    groups = closed.groupby(key)
    return {
        name: (int(group["won"].sum()), int((~group["won"]).sum()), round(group["value"].sum(), 2))
        for name, group in groups
    }


def _shown(table: pd.DataFrame) -> dict[str, tuple[int, int, float]]:
    return {
        row.key: (int(row.won), int(row.lost), round(float(row.won_value), 2))
        for row in table.itertuples()
    }


@pytest.fixture
def imported(admin_user, executive, django_capture_on_commit_callbacks):
    build_process(stages=STAGES)
    periods_ensure(year=2024)
    services.segment_create(
        actor=executive, name="Enterprise", priority=10, employee_count_min=ENTERPRISE_EMPLOYEES
    )
    text = _pipeline_text()
    files = [
        ("products", (FIXTURE_DIR / "products.csv").read_text()),
        ("users", (FIXTURE_DIR / "sales_teams.csv").read_text()),
        ("opportunities", text),
        # The accounts file (no owners) fills in the facts of the accounts the deals created.
        ("accounts", (FIXTURE_DIR / "accounts.csv").read_text()),
    ]
    for kind, content in files:
        with django_capture_on_commit_callbacks(execute=True):
            job = _import(
                admin_user, kind, content, DEAL_GAP_ANSWERS if kind == "opportunities" else None
            )
        job.refresh_from_db()
        assert (job.status, job.errors[:3]) == ("succeeded", []), (kind, job.errors[:3])
    return text


def test_feedback_report_of_the_crm_export_by_lead_source_product_and_segment(
    imported, executive, client
):
    closed = _expected_closed(imported)
    for quarter in range(1, 5):
        start = dt.date(2024, 3 * quarter - 2, 1)
        period = Period.objects.get(kind=Period.Kind.QUARTER, start_on=start)
        mine = closed[closed["quarter"] == f"2024Q{quarter}"]
        assert len(mine) > 100  # the quarter has deals to check

        report = feedback_report(viewer=executive, period=period)

        everything = (
            int(mine["won"].sum()),
            int((~mine["won"]).sum()),
            round(mine["value"].sum(), 2),
        )
        assert _shown(report.lead_source) == {NO_SOURCE: everything}
        assert _shown(report.product) == _by(mine, "product")
        assert _shown(report.segment) == _by(mine, "segment")
        assert _shown(report.total) == {ALL_DEALS: everything}
        # The gaps have their own rows; the file's products and the one segment too.
        assert {NO_PRODUCT, "GTX Pro", "MG Special"} <= set(report.product["key"])
        assert set(report.segment["key"]) == {"Enterprise", UNASSIGNED}

    # The page and its CSV show the same rows, the gaps named.
    client.force_login(executive)
    url = reverse("planning:feedback") + f"?period={period.pk}"
    page = client.get(url).content.decode()
    assert NO_PRODUCT in page
    assert UNASSIGNED in page
    csv = pd.read_csv(io.StringIO(client.get(url + "&format=csv").content.decode()))
    products = csv[csv["dimension"] == "product"].set_index("key")
    assert products.loc[NO_PRODUCT, "won"] == _by(mine, "product")[NO_PRODUCT][0]
    sources = csv[csv["dimension"] == "lead_source"]
    assert sources["key"].tolist() == [NO_SOURCE]
