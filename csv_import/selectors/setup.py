"""The first-run setup checklist: what a new company has set up and what is still missing.

It reads several domains (periods, processes, people, quotas, deals, imports), so it lives
above them, with the import that most of its lines lead to. Each line names the page that
fixes it (a URL name), so pages and the API link the same place.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Opportunity, Product, SalesProcess
from salesmgmt.models import ExchangeRate, ImportJob, Period, Role, User
from salesmgmt.money import reporting_currency
from territories.models import Quota


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    done: bool
    detail: str
    fix_url_name: str  # where to set it up (a URL name without arguments)
    fix_label: str
    optional: bool = False  # not counted as missing: a company may do without it


def _currency_item() -> ChecklistItem:
    """Done when every currency the deals use converts: the reporting one, or one with a rate."""
    currency = reporting_currency()
    chosen = bool(os.environ.get("REPORTING_CURRENCY"))
    how = "set by REPORTING_CURRENCY" if chosen else "the default; set REPORTING_CURRENCY to change"
    used = set(Opportunity.objects.values_list("currency", flat=True).distinct())
    rated = set(ExchangeRate.objects.values_list("currency", flat=True).distinct())
    unrated = sorted(used - rated - {currency})
    detail = f"Figures are reported in {currency} ({how})."
    if unrated:
        detail += f" No exchange rate yet for {', '.join(unrated)}, used by deals."
    return ChecklistItem(
        key="reporting_currency",
        title="Company reporting currency and exchange rates",
        done=not unrated,
        detail=detail,
        fix_url_name="admin:salesmgmt_exchangerate_changelist",
        fix_label="Exchange rates",
    )


def _periods_item(today: dt.date) -> ChecklistItem:
    year = Period.objects.filter(
        kind=Period.Kind.YEAR, start_on__lte=today, end_on__gte=today
    ).exists()
    quarter = Period.objects.filter(
        kind=Period.Kind.QUARTER, start_on__lte=today, end_on__gte=today
    ).exists()
    done = year and quarter
    return ChecklistItem(
        key="fiscal_periods",
        title=f"Fiscal periods for {today.year}",
        done=done,
        detail="The year, its quarters and months exist."
        if done
        else f"No fiscal year or quarter contains today: create {today.year}'s periods.",
        fix_url_name="setup_periods",
        fix_label=f"Create the {today.year} periods",
    )


def _process_item() -> ChecklistItem:
    processes = SalesProcess.objects.filter(stages__isnull=False).distinct().count()
    return ChecklistItem(
        key="sales_process",
        title="A sales process with stages",
        done=processes > 0,
        detail=f"{processes} process(es) with stages."
        if processes
        else "Deals and imports need a sales process with at least one stage.",
        fix_url_name="accounts:process_list",
        fix_label="Sales processes",
    )


def _people_item() -> ChecklistItem:
    people = (
        User.objects.filter(is_active=True).exclude(role__in=[Role.ADMIN, Role.INTEGRATOR]).count()
    )
    return ChecklistItem(
        key="people",
        title="People beyond the administrator",
        done=people > 0,
        detail=f"{people} active people (reps, managers, executives)."
        if people
        else "Only administrators so far: import the sales organisation (kind: users).",
        fix_url_name="imports",
        fix_label="Import people",
    )


def _quotas_item(today: dt.date) -> ChecklistItem:
    quotas = Quota.objects.filter(
        period__kind=Period.Kind.QUARTER, period__start_on__lte=today, period__end_on__gte=today
    ).count()
    return ChecklistItem(
        key="quotas",
        title="Quotas for the current quarter",
        done=quotas > 0,
        detail=f"{quotas} quota(s) this quarter."
        if quotas
        else "Nobody has a quota this quarter: attainment stays empty.",
        fix_url_name="territories:quota_plan",
        fix_label="Quotas",
    )


def _data_item() -> ChecklistItem:
    imports = ImportJob.objects.count()
    deals = Opportunity.objects.count()
    return ChecklistItem(
        key="data",
        title="An import or a deal",
        done=bool(imports or deals),
        detail=f"{imports} import(s), {deals} deal(s)."
        if imports or deals
        else "No data yet: import accounts and opportunities from a CSV.",
        fix_url_name="imports",
        fix_label="Import data",
    )


def _products_item() -> ChecklistItem:
    products = Product.objects.filter(is_active=True).count()
    return ChecklistItem(
        key="products",
        title="Products (optional)",
        done=products > 0,
        detail=f"{products} active product(s) in the catalogue."
        if products
        else "Optional: a catalogue lets deals carry line items and the KPIs show win rate "
        "and revenue by product.",
        fix_url_name="accounts:product_list",
        fix_label="Products",
        optional=True,
    )


def setup_checklist(*, today: dt.date | None = None) -> list[ChecklistItem]:
    """Every line of the checklist, in the order a new company sets things up (11 queries)."""
    today = today or timezone.localdate()
    return [
        _currency_item(),
        _periods_item(today),
        _process_item(),
        _people_item(),
        _quotas_item(today),
        _products_item(),
        _data_item(),
    ]
