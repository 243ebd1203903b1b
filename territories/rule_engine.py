"""The assignment rule engine: which territory each account belongs to. Pure Python, no ORM.

For every account, the matching active rules are collected; the lowest priority number among
them wins. One winner (or several pointing at the same territory) assigns the account. No
match is a *gap*; several matches at the winning priority are an *overlap*, and an overlap
whose rules name different territories is a *conflict*: the engine refuses to guess, so such
accounts stay where they are until the rules are fixed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v and v.strip())


@dataclass(frozen=True)
class AccountFacts:
    """What rules look at in an account."""

    account_id: int
    country: str = ""
    region: str = ""
    state: str = ""
    industry: str = ""
    employee_count: int | None = None
    annual_revenue: Decimal | None = None


@dataclass(frozen=True)
class RuleSpec:
    rule_id: int
    name: str
    territory_id: int
    priority: int
    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    employee_count_min: int | None = None
    employee_count_max: int | None = None
    annual_revenue_min: Decimal | None = None
    annual_revenue_max: Decimal | None = None
    named_account_ids: frozenset[int] = frozenset()

    @classmethod
    def build(cls, *, countries=(), regions=(), states=(), industries=(), **fields) -> RuleSpec:
        """A spec with list criteria normalised for case-insensitive matching."""
        return cls(
            countries=_folded(countries),
            regions=_folded(regions),
            states=_folded(states),
            industries=_folded(industries),
            **fields,
        )

    def matches(self, account: AccountFacts) -> bool:
        """Every criterion that is set must hold (lists: any entry; ranges: min <= v < max)."""
        lists = (
            (self.countries, account.country),
            (self.regions, account.region),
            (self.states, account.state),
            (self.industries, account.industry),
        )
        for wanted, value in lists:
            if wanted and (value or "").strip().casefold() not in wanted:
                return False
        ranges = (
            (self.employee_count_min, self.employee_count_max, account.employee_count),
            (self.annual_revenue_min, self.annual_revenue_max, account.annual_revenue),
        )
        for low, high, value in ranges:
            if low is None and high is None:
                continue
            if value is None:
                return False
            if (low is not None and value < low) or (high is not None and value >= high):
                return False
        return not self.named_account_ids or account.account_id in self.named_account_ids


@dataclass(frozen=True)
class Match:
    """The outcome for one account: the matching rules at the winning priority."""

    account_id: int
    winners: tuple[RuleSpec, ...]

    @property
    def is_gap(self) -> bool:
        return not self.winners

    @property
    def is_overlap(self) -> bool:
        return len(self.winners) > 1

    @property
    def is_conflict(self) -> bool:
        return len({rule.territory_id for rule in self.winners}) > 1

    @property
    def territory_id(self) -> int | None:
        """The territory the rules assign, or None for a gap or a conflict."""
        if self.is_gap or self.is_conflict:
            return None
        return self.winners[0].territory_id

    @property
    def rule(self) -> RuleSpec | None:
        return None if self.is_gap or self.is_conflict else self.winners[0]


def match_account(account: AccountFacts, rules: list[RuleSpec]) -> Match:
    """``rules`` sorted by (priority, rule_id); returns the winners for ``account``."""
    winners: list[RuleSpec] = []
    for rule in rules:
        if winners and rule.priority > winners[0].priority:
            break
        if rule.matches(account):
            winners.append(rule)
    return Match(account.account_id, tuple(winners))


def _evaluation_order(rule: RuleSpec) -> tuple[int, int]:
    return rule.priority, rule.rule_id


def match_accounts(accounts: Iterable[AccountFacts], rules: Iterable[RuleSpec]) -> list[Match]:
    """``match_account`` for each account, with the same result, faster on named rules.

    A rule naming accounts matches no other account, so each account is only checked against
    the rules naming it plus the rules naming nobody: with a named-account rule per seller
    that is a few dozen rules per account instead of every rule.
    """
    ordered = sorted(rules, key=_evaluation_order)
    general = [rule for rule in ordered if not rule.named_account_ids]
    naming: dict[int, list[RuleSpec]] = {}
    for rule in ordered:
        for account_id in rule.named_account_ids:
            naming.setdefault(account_id, []).append(rule)  # stays in evaluation order
    return [
        match_account(
            account,
            list(heapq.merge(general, naming[account.account_id], key=_evaluation_order))
            if account.account_id in naming
            else general,
        )
        for account in accounts
    ]
