"""Fiscal periods from the company's calendar: generation, idempotence and refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from salesmgmt import fiscal_calendar
from salesmgmt.models import AuditEvent, Period
from salesmgmt.services import (
    company_settings_update,
    periods_ensure,
    periods_ensure_covering,
    periods_generate,
)

D = dt.date


def _bounds(kind: str) -> list[tuple[str, dt.date, dt.date]]:
    return [
        (p.name, p.start_on, p.end_on)
        for p in Period.objects.filter(kind=kind).order_by("start_on")
    ]


def test_fiscal_year_of_names_by_the_ending_year():
    # A year starting in February 2025 ends in January 2026: FY2026.
    assert fiscal_calendar.fiscal_year_of(D(2025, 1, 31), start_month=2) == 2025
    assert fiscal_calendar.fiscal_year_of(D(2025, 2, 1), start_month=2) == 2026
    assert fiscal_calendar.fiscal_year_of(D(2025, 12, 31), start_month=2) == 2026
    assert fiscal_calendar.fiscal_year_of(D(2025, 12, 31), start_month=1) == 2025
    assert fiscal_calendar.fiscal_year_bounds(2026, start_month=2) == (
        D(2025, 2, 1),
        D(2026, 1, 31),
    )
    assert fiscal_calendar.fiscal_year_bounds(2024, start_month=1) == (
        D(2024, 1, 1),
        D(2024, 12, 31),
    )


@pytest.mark.django_db
def test_february_fiscal_years_across_2023_to_2026(admin_user):
    company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    # Deals from mid-March 2023 to early January 2026 touch FY2024, FY2025 and FY2026.
    periods = periods_ensure_covering(first=D(2023, 3, 15), last=D(2026, 1, 5))
    assert len(periods) == 3 * 17
    assert _bounds(Period.Kind.YEAR) == [
        ("FY2024", D(2023, 2, 1), D(2024, 1, 31)),
        ("FY2025", D(2024, 2, 1), D(2025, 1, 31)),
        ("FY2026", D(2025, 2, 1), D(2026, 1, 31)),
    ]
    fy2025_quarters = [q for q in _bounds(Period.Kind.QUARTER) if q[0].startswith("FY2025")]
    assert fy2025_quarters == [
        ("FY2025 Q1", D(2024, 2, 1), D(2024, 4, 30)),
        ("FY2025 Q2", D(2024, 5, 1), D(2024, 7, 31)),
        ("FY2025 Q3", D(2024, 8, 1), D(2024, 10, 31)),
        ("FY2025 Q4", D(2024, 11, 1), D(2025, 1, 31)),  # across the new year
    ]
    months = _bounds(Period.Kind.MONTH)
    assert len(months) == 36
    assert months[0] == ("Feb 2023", D(2023, 2, 1), D(2023, 2, 28))
    assert ("Feb 2024", D(2024, 2, 1), D(2024, 2, 29)) in months  # a leap year
    assert months[-1] == ("Jan 2026", D(2026, 1, 1), D(2026, 1, 31))
    # Every day of the range lies in exactly one year, one quarter and one month.
    day = D(2023, 2, 1)
    while day <= D(2026, 1, 31):
        for kind in Period.Kind.values:
            assert Period.objects.filter(kind=kind, start_on__lte=day, end_on__gte=day).count() == 1
        day += dt.timedelta(days=11)


@pytest.mark.django_db
def test_generation_is_idempotent_and_fills_gaps(admin_user):
    company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    first = periods_ensure_covering(first=D(2024, 6, 1), last=D(2024, 6, 2))
    again = periods_ensure_covering(first=D(2024, 6, 1), last=D(2024, 6, 2))
    assert [p.pk for p in first] == [p.pk for p in again]
    assert Period.objects.count() == 17
    # One month deleted by hand: only it is made again, the rest kept.
    Period.objects.filter(kind=Period.Kind.MONTH, start_on=D(2024, 9, 1)).delete()
    periods_ensure_covering(first=D(2024, 2, 1), last=D(2025, 1, 31))
    assert Period.objects.count() == 17
    assert Period.objects.get(kind=Period.Kind.MONTH, start_on=D(2024, 9, 1)).name == "Sep 2024"


@pytest.mark.django_db
def test_periods_ensure_keeps_the_calendar_year_by_default():
    periods = periods_ensure(year=2019)
    assert [p.name for p in periods if p.kind != Period.Kind.MONTH] == [
        "FY2019",
        "FY2019 Q1",
        "FY2019 Q2",
        "FY2019 Q3",
        "FY2019 Q4",
    ]
    assert _bounds(Period.Kind.YEAR) == [("FY2019", D(2019, 1, 1), D(2019, 12, 31))]
    assert len(periods) == 17


@pytest.mark.django_db
def test_periods_ensure_covers_the_calendar_year_on_a_fiscal_calendar(admin_user):
    company_settings_update(actor=admin_user, fiscal_year_start_month=7)
    periods_ensure(year=2025)
    # July start: 2025 lies in FY2025 (Jul 2024 to Jun 2025) and FY2026.
    assert [name for name, *_ in _bounds(Period.Kind.YEAR)] == ["FY2025", "FY2026"]


@pytest.mark.django_db
def test_a_second_calendar_is_refused_and_nothing_is_created():
    periods_ensure(year=2025)  # calendar years (January start)
    count = Period.objects.count()
    with pytest.raises(ValidationError, match="would overlap the existing year FY2025"):
        periods_ensure_covering(first=D(2025, 3, 1), last=D(2025, 3, 1), start_month=4)
    assert Period.objects.count() == count


@pytest.mark.django_db
def test_changing_the_start_month_is_refused_once_periods_exist(admin_user):
    periods_ensure(year=2025)
    with pytest.raises(ValidationError) as refused:
        company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    assert "FY2025 starts in January" in str(refused.value.message_dict["fiscal_year_start_month"])
    # The calendar the periods follow stays possible; any other month is refused.
    company_settings_update(actor=admin_user, fiscal_year_start_month=1, name="Acme")
    with pytest.raises(ValidationError):
        company_settings_update(actor=admin_user, fiscal_year_start_month=4)


@pytest.mark.django_db
def test_periods_generate_names_fiscal_years_and_audits(admin_user):
    company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    periods_generate(actor=admin_user, first_year=2023, last_year=2026)
    assert [name for name, *_ in _bounds(Period.Kind.YEAR)] == [
        "FY2023",
        "FY2024",
        "FY2025",
        "FY2026",
    ]
    assert _bounds(Period.Kind.YEAR)[0][1:] == (D(2022, 2, 1), D(2023, 1, 31))
    event = AuditEvent.objects.get(action="periods.generated")
    assert event.details == {"first_year": 2023, "last_year": 2026, "created": 4 * 17}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first_year", "last_year", "message"),
    [
        (2026, 2023, "must not be before"),
        (1850, 1900, "between FY1900"),
        (1990, 2100, "At most 60 fiscal years"),
    ],
)
def test_periods_generate_refuses_bad_ranges(admin_user, first_year, last_year, message):
    with pytest.raises(ValidationError, match=message):
        periods_generate(actor=admin_user, first_year=first_year, last_year=last_year)
    assert not Period.objects.exists()


@pytest.mark.django_db
def test_periods_generate_is_for_administrators(rep_a):
    from salesmgmt.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        periods_generate(actor=rep_a, first_year=2025, last_year=2025)
    assert not Period.objects.exists()
