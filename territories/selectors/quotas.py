"""Reads for quotas: lists, history, periods, and the planning tree with attainment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from salesmgmt.models import Period, Role, User
from salesmgmt.visibility import can_see_user

from ..models import CompanyTarget, Quota, QuotaChange, RampSchedule
from ..permissions import can_edit_quota_of
from ..quota_rules import (
    DEFAULT_RAMP_PERCENTAGES,
    RampState,
    ramp_factor,
    ramp_state,
)
from ..quota_tree import flatten_tree, roots
from .attainment import Attainment, org_figures

ZERO = Decimal(0)
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)


def ramp_percentages() -> tuple[int | float, ...]:
    """The default ramp schedule's monthly percentages (25/50/75/100 when none is set)."""
    schedule = RampSchedule.objects.filter(is_default=True).first()
    return tuple(schedule.monthly_percentages) if schedule else DEFAULT_RAMP_PERCENTAGES


def period_choices() -> list[Period]:
    """Quarters and years, for the period picker (1 query)."""
    return list(Period.objects.exclude(kind=Period.Kind.MONTH).order_by("start_on", "-kind"))


def quota_list(*, viewer: User, period: Period | None = None) -> QuerySet[Quota]:
    qs = Quota.objects.visible_to(viewer).select_related("user", "period", "territory")
    if period is not None:
        qs = qs.for_period(period.pk)
    return qs.order_by("period__start_on", "user__last_name", "user__first_name", "id")


def quota_get(*, viewer: User, pk: int) -> Quota:
    try:
        return quota_list(viewer=viewer).get(pk=pk)
    except Quota.DoesNotExist:
        raise Http404("No such quota.") from None


def quota_history(*, quota: Quota) -> list[QuotaChange]:
    return list(quota.changes.select_related("changed_by").order_by("-changed_at", "-id"))


def person_get(*, viewer: User, pk: int) -> User:
    """A person ``viewer`` sees; anyone else is a 404."""
    person = User.objects.filter(pk=pk).first()
    if person is None or not can_see_user(viewer, person):
        raise Http404("No such person.")
    return person


# --- the planning tree -----------------------------------------------------------------------


@dataclass
class QuotaPlanRow:
    person: User
    depth: int
    attainment: Attainment
    quota_row: dict | None
    ramp: RampState
    ramp_factor: Decimal
    can_edit: bool
    is_consistent: bool
    children_quota: Decimal
    has_children: bool

    @property
    def basis(self) -> str:
        if self.quota_row is None or self.quota_row["basis"] == Quota.Basis.DERIVED:
            return "derived" if self.has_children else "none"
        return self.quota_row["basis"]


@dataclass
class QuotaPlan:
    period: Period
    rows: list[QuotaPlanRow]
    company: Attainment | None
    target: CompanyTarget | None
    inconsistencies: list[QuotaPlanRow]


def quota_plan(*, viewer: User, period: Period) -> QuotaPlan:
    """The people ``viewer`` sees as a tree with quota, attainment and ramp (7 queries).

    Executives and admins see the whole organisation and the company figures; a manager
    their subtree; a rep themselves.
    """
    figures = org_figures(period=period)
    people = {
        u.pk: u
        for u in User.objects.filter(is_active=True, role__in=SELLING_ROLES).only(
            "pk", "username", "first_name", "last_name", "role", "manager_id", "ancestor_path",
            "hire_date", "is_superuser", "sales_role",
        )
    }  # fmt: skip
    sellers = {pk: figures.parent_of.get(pk) for pk in people}
    start = roots(sellers) if viewer.sees_everyone else [viewer.pk] if viewer.pk in people else []
    percentages = ramp_percentages()
    today = timezone.localdate()
    rows = []
    for person_id, depth in flatten_tree(sellers, start):
        person = people[person_id]
        rolled = figures.quotas.get(person_id)
        rows.append(
            QuotaPlanRow(
                person=person,
                depth=depth,
                attainment=figures.attainment(person_id),
                quota_row=figures.quota_rows.get(person_id),
                ramp=ramp_state(hire_date=person.hire_date, on=today, percentages=percentages),
                ramp_factor=ramp_factor(
                    hire_date=person.hire_date,
                    start_on=period.start_on,
                    end_on=period.end_on,
                    percentages=percentages,
                ),
                can_edit=can_edit_quota_of(viewer, person),
                is_consistent=rolled.is_consistent if rolled else True,
                children_quota=rolled.children_quota if rolled else ZERO,
                has_children=bool(rolled and rolled.has_children),
            )
        )
    company = target = None
    if viewer.sees_everyone:
        top = roots(figures.parent_of)
        company = Attainment(
            user_id=None,
            bookings=sum(figures.own_bookings.values(), ZERO),
            quota=sum((figures.quotas[p].quota for p in top), ZERO),
            ramped_quota=sum((figures.quotas[p].ramped_quota for p in top), ZERO),
        )
        target = CompanyTarget.objects.filter(period=period).first()
    return QuotaPlan(
        period=period,
        rows=rows,
        company=company,
        target=target,
        inconsistencies=[row for row in rows if not row.is_consistent],
    )


@dataclass(frozen=True)
class Inconsistency:
    user_id: int
    quota: Decimal
    children_quota: Decimal

    @property
    def difference(self) -> Decimal:
        return self.quota - self.children_quota


def quota_consistency(*, period: Period, viewer: User | None = None) -> list[Inconsistency]:
    """People whose explicit quota differs from what their team adds up to (4-5 queries)."""
    figures = org_figures(period=period)
    seen = None
    if viewer is not None and not viewer.sees_everyone:
        seen = set(
            User.objects.filter(
                Q(pk=viewer.pk) | Q(ancestor_path__startswith=viewer.subtree_path)
            ).values_list("pk", flat=True)
        )
    return [
        Inconsistency(user_id, rolled.quota, rolled.children_quota)
        for user_id, rolled in sorted(figures.quotas.items())
        if not rolled.is_consistent and (seen is None or user_id in seen)
    ]
