"""The first-run setup checklist: what a new company has set up and what is still missing.

It reads several domains (periods, processes, people, quotas, deals, imports), so it lives
above them, with the import that most of its lines lead to. Each line names the page that
fixes it (a URL name), so pages and the API link the same place.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import Opportunity, Product, SalesProcess
from salesmgmt import fiscal_calendar
from salesmgmt.models import CompanySettings, ExchangeRate, ImportJob, Period, Role, User
from salesmgmt.selectors import company_settings_get
from territories.models import Quota

MONTH_NAMES = list(calendar.month_name)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    done: bool
    detail: str
    fix_url_name: str  # where to set it up (a URL name without arguments)
    fix_label: str
    optional: bool = False  # not counted as missing: a company may do without it


def _company_item(company: CompanySettings, today: dt.date) -> ChecklistItem:
    """Done when the company has a name (saving the settings page sets the rest with it)."""
    fiscal_year = fiscal_calendar.fiscal_year_of(today, start_month=company.fiscal_year_start_month)
    month = MONTH_NAMES[company.fiscal_year_start_month]
    summary = (
        f"{company.reporting_currency}, fiscal year from {month} (now FY{fiscal_year}), "
        f"{company.time_zone}, weeks start on {company.get_week_start_display()}."
    )
    return ChecklistItem(
        key="company",
        title="Company settings",
        done=bool(company.name),
        detail=f"{company.name}: {summary}" if company.name else f"No company name yet. {summary}",
        fix_url_name="setup_company",
        fix_label="Company settings",
    )


def _currency_item(currency: str) -> ChecklistItem:
    """Done when every currency the deals use converts: the reporting one, or one with a rate."""
    used = set(Opportunity.objects.values_list("currency", flat=True).distinct())
    rated = set(ExchangeRate.objects.values_list("currency", flat=True).distinct())
    unrated = sorted(used - rated - {currency})
    detail = f"Figures are reported in {currency} (set in the company settings)."
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


def _periods_item(company: CompanySettings, today: dt.date) -> ChecklistItem:
    year = Period.objects.filter(
        kind=Period.Kind.YEAR, start_on__lte=today, end_on__gte=today
    ).exists()
    quarter = Period.objects.filter(
        kind=Period.Kind.QUARTER, start_on__lte=today, end_on__gte=today
    ).exists()
    done = year and quarter
    fiscal_year = fiscal_calendar.fiscal_year_of(today, start_month=company.fiscal_year_start_month)
    return ChecklistItem(
        key="fiscal_periods",
        title=f"Fiscal periods for FY{fiscal_year}",
        done=done,
        detail="The fiscal year, its quarters and months exist; generate past years on the "
        "company settings page."
        if done
        else f"No fiscal year or quarter contains today: create FY{fiscal_year}'s periods "
        "(set the fiscal year start month in the company settings first).",
        fix_url_name="setup_periods",
        fix_label=f"Create the FY{fiscal_year} periods",
    )


def _history_item(company: CompanySettings) -> ChecklistItem:
    """Done when every fiscal year the deals touch has its periods (2 queries)."""
    start_month = company.fiscal_year_start_month
    touched = data_fiscal_years(start_month=start_month)
    missing: list[int] = []
    if touched is not None:
        years = range(touched[0], touched[1] + 1)
        starts = {
            fiscal_calendar.fiscal_year_bounds(y, start_month=start_month)[0]: y for y in years
        }
        found = set(
            Period.objects.filter(kind=Period.Kind.YEAR, start_on__in=list(starts)).values_list(
                "start_on", flat=True
            )
        )
        missing = [year for start, year in starts.items() if start not in found]
    if touched is None:
        detail = "No deals yet: their fiscal years are generated once they are imported."
    elif missing:
        detail = (
            f"The deals touch FY{touched[0]} to FY{touched[1]}; {len(missing)} of those fiscal "
            f"years have no periods (first: FY{missing[0]}), so their figures cannot be shown."
        )
    else:
        detail = f"FY{touched[0]} to FY{touched[1]}, every year the deals touch, exist."
    return ChecklistItem(
        key="fiscal_history",
        title="Fiscal periods for every year the deals touch",
        done=not missing,
        detail=detail,
        fix_url_name="setup_company",
        fix_label="Generate periods",
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
    """Every line of the checklist, in the order a new company sets things up (14 queries)."""
    today = today or timezone.localdate()
    company = company_settings_get()
    return [
        _company_item(company, today),
        _currency_item(company.reporting_currency),
        _periods_item(company, today),
        _history_item(company),
        _process_item(),
        _people_item(),
        _quotas_item(today),
        _products_item(),
        _data_item(),
    ]


def data_fiscal_years(*, start_month: int) -> tuple[int, int] | None:
    """The first and last fiscal year the deals touch (created, expected or closed), or None
    without deals (one query)."""
    bounds = Opportunity.objects.aggregate(
        created=Min("created_at"),
        first_close=Min("expected_close_on"),
        last_close=Max("expected_close_on"),
        last_closed=Max("closed_on"),
    )
    if bounds["created"] is None:
        return None
    created = timezone.localdate(bounds["created"])
    first = min(created, bounds["first_close"])
    last = max(d for d in (bounds["last_close"], bounds["last_closed"], created) if d)
    return (
        fiscal_calendar.fiscal_year_of(first, start_month=start_month),
        fiscal_calendar.fiscal_year_of(last, start_month=start_month),
    )
