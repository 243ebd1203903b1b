"""Top-down allocation of a company target over territories and their owners."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from salesmgmt.models import Period, User
from salesmgmt.money import RateTable

from ..models import CompanyTarget, Quota, Territory
from ..quota_rules import ramp_factor, ramped_amount, split_exactly
from .balance import current_potential, territory_bookings
from .quotas import ramp_percentages

ZERO = Decimal(0)


@dataclass(frozen=True)
class AllocationLine:
    territory: Territory
    weight: Decimal
    territory_quota: Decimal


@dataclass(frozen=True)
class PersonAllocation:
    person: User
    territory: Territory
    territory_quota: Decimal
    assignment_share: Decimal
    ramp_factor: Decimal
    manager_adjustment: Decimal
    amount: Decimal


@dataclass
class AllocationPreview:
    period: Period
    amount: Decimal
    method: str
    lines: list[AllocationLine]
    people: list[PersonAllocation]

    @property
    def total(self) -> Decimal:
        return sum((line.territory_quota for line in self.lines), ZERO)


def _weights(method: str, territories: list[Territory], period: Period) -> list[Decimal]:
    ids = [t.pk for t in territories]
    if method == CompanyTarget.Method.EVEN:
        return [Decimal(1)] * len(ids)
    if method == CompanyTarget.Method.POTENTIAL:
        frame = current_potential(territory_ids=ids)
        sums = frame.groupby("territory_id")["potential"].agg(lambda s: sum(s, ZERO))
        return [sums.get(pk, ZERO) for pk in ids]
    if method == CompanyTarget.Method.HISTORICAL:
        end = period.start_on - dt.timedelta(days=1)
        start = period.start_on.replace(year=period.start_on.year - 1)
        frame = territory_bookings(
            territory_ids=ids, start_on=start, end_on=end, rates=RateTable.load()
        )
        sums = frame.groupby("territory_id")["amount"].agg(lambda s: sum(s, ZERO))
        booked = [sums.get(pk, ZERO) for pk in ids]
        if all(amount > 0 for amount in booked):
            return booked
        frame = current_potential(territory_ids=ids)
        potentials = frame.groupby("territory_id")["potential"].agg(lambda s: sum(s, ZERO))
        return historical_weights(booked, [potentials.get(pk, ZERO) for pk in ids])
    raise ValidationError({"method": f"Unknown allocation method {method!r}."})


def historical_weights(booked: list[Decimal], potentials: list[Decimal]) -> list[Decimal]:
    """Weights by history where there is some; a territory without (a new one, a new
    hire's) weighs what its potential books at the rate the others turn potential into
    bookings, or, without potential or such a rate, what the average booked territory did.

    Example: booked 100 and 300 on potentials 1000 and 4000 → 400 / 5000 = 0.08 of potential
    booked; a territory with no bookings and a potential of 2000 weighs 160. Without any
    history, the weights are the potentials (then one each when those are all zero).
    """
    with_history = [i for i, amount in enumerate(booked) if amount > 0]
    if not with_history:
        return potentials if any(p > 0 for p in potentials) else [Decimal(1)] * len(booked)
    booked_sum = sum((booked[i] for i in with_history), ZERO)
    potential_sum = sum((potentials[i] for i in with_history), ZERO)
    average = booked_sum / len(with_history)
    rate = booked_sum / potential_sum if potential_sum > 0 else None
    return [
        amount
        if amount > 0
        else (potential * rate if rate is not None and potential > 0 else average)
        for amount, potential in zip(booked, potentials, strict=True)
    ]


def allocation_preview(*, period: Period, amount: Decimal, method: str) -> AllocationPreview:
    """Split ``amount`` over the lowest-level territories in effect during ``period``.

    Weights: historical = bookings credited to each territory in the four quarters before
    the period (a territory without any: by its potential, ``historical_weights``);
    potential = the annual revenue of its accounts today; even = one each. The
    territory quotas add up to ``amount`` exactly (largest remainder, see quota_rules). Each
    territory's owner then carries territory quota * their share * their ramp factor + their
    manager's adjustment (share and adjustment kept from an existing quota). ≤7 queries.
    """
    if amount < 0:
        raise ValidationError({"amount": "The target cannot be negative."})
    territories = list(
        Territory.objects.leaves()
        .filter(effective_from__lte=period.end_on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=period.start_on))
        .select_related("owner")
        .order_by("pk")
    )
    if not territories:
        raise ValidationError("There are no territories to allocate to in this period.")
    weights = _weights(method, territories, period)
    try:
        parts = split_exactly(amount, weights)
    except ValueError:
        label = CompanyTarget.Method(method).label.lower()
        raise ValidationError(
            {"method": f"Every territory weighs zero by {label}; choose another method."}
        ) from None
    lines = [AllocationLine(t, w, p) for t, w, p in zip(territories, weights, parts, strict=True)]
    people = _owner_allocations(lines, period=period)
    return AllocationPreview(period, amount, method, lines, people)


def _owner_allocations(lines: list[AllocationLine], *, period: Period) -> list[PersonAllocation]:
    """What each territory owner carries: their territories' quotas, share, ramp, adjustment."""
    existing = {
        q.user_id: q
        for q in Quota.objects.for_period(period.pk).filter(
            user__in=[line.territory.owner_id for line in lines]
        )
    }
    percentages = ramp_percentages()
    by_owner: dict[int, list[AllocationLine]] = defaultdict(list)
    for line in lines:
        by_owner[line.territory.owner_id].append(line)
    people = []
    for owner_lines in by_owner.values():
        owner = owner_lines[0].territory.owner
        quota = existing.get(owner.pk)
        kept = quota if quota is not None and quota.basis == Quota.Basis.COMPONENTS else None
        share = kept.assignment_share if kept is not None else Decimal(1)
        adjustment = kept.manager_adjustment if kept is not None else ZERO
        territory_quota = sum((line.territory_quota for line in owner_lines), ZERO)
        factor = ramp_factor(
            hire_date=owner.hire_date,
            start_on=period.start_on,
            end_on=period.end_on,
            percentages=percentages,
        )
        people.append(
            PersonAllocation(
                person=owner,
                # A rep owning several territories carries their sum, filed under the first.
                territory=owner_lines[0].territory,
                territory_quota=territory_quota,
                assignment_share=share,
                ramp_factor=factor,
                manager_adjustment=adjustment,
                amount=max(ramped_amount(territory_quota, share, factor, adjustment), ZERO),
            )
        )
    return people
