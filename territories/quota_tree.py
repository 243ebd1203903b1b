"""Quota and bookings rollups over the reporting tree. Pure Python, no ORM.

A person's quota is their explicit quota when one is set; otherwise their own component quota
(if they carry one) plus the quotas of their direct reports, recursively. Explicit quotas are
not ramped; the ramped figure of a team is the sum of its members' ramped figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class OwnQuota:
    """One person's own quota row, reduced to what the rollup needs."""

    basis: str  # "components", "explicit" or "derived" (see territories.models.Quota.Basis)
    full_amount: Decimal  # fully ramped
    ramped_amount: Decimal  # what attainment divides by


@dataclass(frozen=True)
class RolledQuota:
    quota: Decimal
    ramped_quota: Decimal
    is_explicit: bool
    has_quota: bool
    children_quota: Decimal  # sum of the direct reports' quotas
    has_children: bool

    @property
    def is_consistent(self) -> bool:
        """An explicit quota over a team should equal what the team adds up to."""
        return not (self.is_explicit and self.has_children) or self.quota == self.children_quota


def children_of(parent_of: Mapping[int, int | None]) -> dict[int | None, list[int]]:
    """Direct reports per person; people whose manager is not in ``parent_of`` are roots."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for person, parent in parent_of.items():
        children[parent if parent in parent_of else None].append(person)
    for members in children.values():
        members.sort()
    return children


def post_order(parent_of: Mapping[int, int | None]) -> list[int]:
    """Everyone, each after all of their reports (no recursion: depth is unbounded here)."""
    children = children_of(parent_of)
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(root, False) for root in reversed(children.get(None, []))]
    while stack:
        person, expanded = stack.pop()
        if expanded:
            order.append(person)
            continue
        stack.append((person, True))
        stack.extend((child, False) for child in reversed(children.get(person, [])))
    return order


def rollup_quotas(
    parent_of: Mapping[int, int | None], own: Mapping[int, OwnQuota]
) -> dict[int, RolledQuota]:
    children = children_of(parent_of)
    rolled: dict[int, RolledQuota] = {}
    for person in post_order(parent_of):
        reports = [rolled[child] for child in children.get(person, [])]
        team = sum((r.quota for r in reports), ZERO)
        team_ramped = sum((r.ramped_quota for r in reports), ZERO)
        team_has = any(r.has_quota for r in reports)
        mine = own.get(person)
        if mine is not None and mine.basis == "explicit":
            quota, ramped, explicit, has = mine.full_amount, mine.ramped_amount, True, True
        elif mine is not None and mine.basis == "components":
            quota, ramped = mine.full_amount + team, mine.ramped_amount + team_ramped
            explicit, has = False, True
        else:
            quota, ramped, explicit, has = team, team_ramped, False, team_has
        rolled[person] = RolledQuota(
            quota=quota,
            ramped_quota=ramped,
            is_explicit=explicit,
            has_quota=has,
            children_quota=team,
            has_children=bool(reports) and team_has,
        )
    return rolled


def subtree_totals(
    parent_of: Mapping[int, int | None], own: Mapping[int, Decimal]
) -> dict[int, Decimal]:
    """Each person's own value plus everyone's below them."""
    children = children_of(parent_of)
    totals: dict[int, Decimal] = {}
    for person in post_order(parent_of):
        totals[person] = own.get(person, ZERO) + sum(
            (totals[child] for child in children.get(person, [])), ZERO
        )
    return totals


def roots(parent_of: Mapping[int, int | None]) -> list[int]:
    return children_of(parent_of).get(None, [])


def subtree_members(parent_of: Mapping[int, int | None], person: int) -> set[int]:
    children = children_of(parent_of)
    members, stack = set(), [person]
    while stack:
        current = stack.pop()
        members.add(current)
        stack.extend(children.get(current, []))
    return members


def flatten_tree(
    parent_of: Mapping[int, int | None], start: Iterable[int]
) -> list[tuple[int, int]]:
    """(person, depth) in display order: each person followed by their reports."""
    children = children_of(parent_of)
    rows: list[tuple[int, int]] = []
    stack = [(person, 0) for person in reversed(list(start))]
    while stack:
        person, depth = stack.pop()
        rows.append((person, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(person, [])))
    return rows
