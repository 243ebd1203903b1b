"""Demo territories and quotas on top of the demo organisation (demo_data).

The hierarchy follows the demo org: a region per director, a district per manager and a
territory per seller (account executives and account managers, who own the accounts); sales
engineers and SDRs overlay their team's district. The core demo gives each seller a random
book within their region, so no geographic rule could reproduce it: each territory's main
rule names its owner's accounts (priority 10), and region/industry rules (priority 100) route
the unnamed rest, each industry of a region to the seller who already owns those accounts, so
applying the rules moves no account to another owner. A few accounts are left out on purpose
for the coverage check: some unnamed in an industry no rule covers (gaps) and some named by two
teammates (overlaps whose rules disagree, so they stay unassigned).

Assignments take effect from the first quarter with deals, so every won deal is credited to a
territory. Every quarter from that one to the next gets a company target near what the sellers
were credited that quarter and a quota per seller (account executives and account managers;
the overlays carry none), written as company_target_allocate writes them: see
_allocate_targets for how the target is split, so that attainment spreads the way real teams'
does. Credited bookings follow the credit ledger's rule (credited_bookings).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Account
from compensation import ledger
from salesmgmt.bulk_rows import insert_rows
from salesmgmt.errors import ApplicationError
from salesmgmt.models import Period, Role, SalesRole, User
from salesmgmt.money import quantize_money
from salesmgmt.services import periods_ensure
from territories import selectors, services
from territories.models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    AssignmentRun,
    CompanyTarget,
    Quota,
    QuotaChange,
    Territory,
    TerritoryOverlay,
)
from territories.quota_rules import ramp_factor, ramped_amount
from territories.services.quotas import _state as quota_state

from .org import demo_users
from .vocabulary import DEMO_MARKER, HISTORY_QUARTERS

ACTORS = ("admin", "executive")  # territories and rules by the admin, targets by the CRO
SELLERS = (SalesRole.AE, SalesRole.AM)
OVERLAYS = {SalesRole.SE: "Sales engineer", SalesRole.SDR: "Sales development"}
NAMED_PRIORITY = 10
REGIONAL_PRIORITY = 100
ROUTED_SHARE = 0.3  # of the accounts a region/industry rule would give their own owner
GAP_SHARE = 0.01  # of all accounts; drawn from the industry each region leaves uncovered
OVERLAP_SHARE = 0.005
# Speed: the services match every account against the rules in Python and lock every
# account row (in batches: territories.batching), and save each quota with full_clean (five
# queries, ~13 ms a quota). Above these sizes the demo writes the same rows in bulk
# (_assign_in_bulk, _allocate_in_bulk); tests/demo_data/test_territories.py checks both paths
# write the same data.
SERVICE_PATH_MAX_ACCOUNTS = 2000
# Past targets: the quarter's actual bookings times a stretch factor drawn in this range, so
# the company lands at roughly 90-110% and reps spread around it.
STRETCH = (0.9, 1.1)
GROWTH = Decimal("1.08")  # the current quarter's target over the mean of the last four
MIN_SHARE = Decimal("0.4")  # of the median seller's share: the least a seller's quota weighs
# Plans know each seller's pipeline for the quarter: this much of a past quarter's quota
# follows what the seller went on to book (the demo's stand-in for that pipeline).
PIPELINE_WEIGHT = Decimal("0.45")
MAX_ATTAINMENT = Decimal("2.5")  # a quarter's bookings over its quota, at most
# Columns of the rows the bulk paths insert (demo_data.insert_rows).
# fmt: off
ASSIGNMENT_COLUMNS = [
    "account_id", "territory_id", "effective_from", "source", "rule_id", "run_id", "assigned_by_id",
]
CHANGE_COLUMNS = [
    "quota_id", "field", "old_value", "new_value", "reason", "source", "changed_by_id",
    "changed_at",
]
# fmt: on
RULE = AccountTerritoryAssignment.Source.RULE
ZERO = Decimal(0)


@dataclass
class _Plan:
    """What the demo territories are made of, drawn before anything is written."""

    actor: User
    executive: User
    starts_on: dt.date
    seller_territory: dict[int, Territory] = field(default_factory=dict)
    named: dict[int, list[int]] = field(default_factory=dict)  # seller pk -> account ids
    regional: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def demo_territories() -> QuerySet[Territory]:
    return Territory.objects.filter(owner__in=demo_users())


def demo_territory_counts() -> dict[str, int]:
    users = demo_users()
    territories = demo_territories()
    return {
        "territories": territories.count(),
        "assignment_rules": AssignmentRule.objects.filter(territory__in=territories).count(),
        "assigned_accounts": AccountTerritoryAssignment.objects.current()
        .filter(territory__in=territories)
        .count(),
        "quotas": Quota.objects.filter(user__in=users).count(),
        "company_targets": CompanyTarget.objects.filter(allocated_by__in=users).count(),
    }


@transaction.atomic
def delete_demo_territories() -> None:
    """Remove demo territories, rules, assignments, quotas and targets (PROTECTed rows first)."""
    users = demo_users()
    territories = demo_territories()
    QuotaChange.objects.filter(quota__user__in=users).delete()
    Quota.objects.filter(user__in=users).delete()
    CompanyTarget.objects.filter(allocated_by__in=users).delete()
    AccountTerritoryAssignment.objects.filter(
        Q(territory__in=territories) | Q(run__applied_by__in=users)
    ).delete()
    AssignmentRun.objects.filter(applied_by__in=users).delete()
    AssignmentRule.objects.filter(territory__in=territories).delete()
    TerritoryOverlay.objects.filter(user__in=users).delete()
    # Deepest first: a parent is PROTECTed by its children.
    while territories.exists():
        territories.filter(children__isnull=True).delete()


@transaction.atomic
def load_demo_territories(
    *,
    seed: int = 42,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[bool, dict[str, int]]:
    """Build the demo territories and quotas unless they exist; (created, counts)."""
    if demo_territories().exists() or not demo_users().exists():
        return False, demo_territory_counts()
    progress = progress or (lambda _: None)
    today = today or timezone.localdate()
    rng = random.Random(f"territories:{seed}")  # noqa: S311 - reproducible, not secret
    logins = {
        u.external_id.removeprefix(DEMO_MARKER): u
        for u in demo_users().filter(external_id__in=[f"{DEMO_MARKER}{n}" for n in ACTORS])
    }
    if set(logins) != set(ACTORS):
        raise ApplicationError("The demo admin and executive logins are missing; use --reset.")
    current = _quarter_start(today)
    history_start = _add_quarters(current, -HISTORY_QUARTERS)
    # Territories and assignments start with the first deals, a quarter before the history.
    plan = _Plan(logins["admin"], logins["executive"], _add_quarters(history_start, -1))
    try:
        _build_hierarchy(plan)
        progress(f"Territories: {len(plan.seller_territory)} seller territories")
        _build_rules(plan, rng)
        _assign(plan)
        progress(f"Assignment rules: {plan.counts['assignment_rules']}")
        _allocate_targets(plan, rng, history_start=history_start, current=current)
        progress(f"Company targets: {plan.counts['company_targets']} quarters allocated")
        # The territory page reads balance, coverage and rebalancing from a snapshot; compute
        # it now so the demo shows them at once (the refreshes queued by the services above
        # then find it current and do nothing).
        services.planning_refresh(force=True)
        progress("Planning snapshot computed")
        # Likewise the dashboards read attainment precomputed per period: the current ones
        # now, and any computed before a --reset again (their rows named deleted people).
        refreshed = services.attainment_refresh_all()
        progress(f"Attainment computed for {len(refreshed)} periods")
    except ValidationError as exc:
        raise ApplicationError(f"Demo territories: {' '.join(exc.messages)}") from exc
    return True, demo_territory_counts()


# --- dates -------------------------------------------------------------------------------------


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_quarters(day: dt.date, quarters: int) -> dt.date:
    months = day.year * 12 + day.month - 1 + 3 * quarters
    return dt.date(months // 12, months % 12 + 1, 1)


# --- hierarchy, rules, assignment -------------------------------------------------------------


class _Names:
    """Territory names are unique: a repeated one gets a number."""

    def __init__(self) -> None:
        self.taken = set(Territory.objects.values_list("name", flat=True))

    def __call__(self, name: str) -> str:
        unique, n = name, 1
        while unique in self.taken:
            n += 1
            unique = f"{name} {n}"
        self.taken.add(unique)
        return unique


def _build_hierarchy(plan: _Plan) -> None:
    """Region per director, district per manager, territory per seller; overlays for the rest."""
    people = list(demo_users().filter(is_active=True).order_by("pk"))
    by_manager: dict[int | None, list[User]] = defaultdict(list)
    for person in people:
        by_manager[person.manager_id].append(person)
    name = _Names()
    create = services.territory_create
    actor, starts_on = plan.actor, plan.starts_on
    directors = [u for u in by_manager[plan.executive.pk] if u.role == Role.MANAGER]
    for director in directors:
        region = create(
            actor=actor,
            name=name(f"{director.region or 'Global'} region"),
            owner=director,
            level=Territory.Level.REGION,
            effective_from=starts_on,
            description=f"Led by {director.get_full_name()}.",
        )
        for manager in by_manager[director.pk]:
            district = create(
                actor=actor,
                name=name(f"{manager.region} district: {manager.get_full_name()}"),
                owner=manager,
                level=Territory.Level.DISTRICT,
                parent=region,
                effective_from=starts_on,
            )
            for rep in by_manager[manager.pk]:
                if rep.sales_role in SELLERS:
                    plan.seller_territory[rep.pk] = create(
                        actor=actor,
                        name=name(f"{rep.region}: {rep.get_full_name()}"),
                        owner=rep,
                        parent=district,
                        effective_from=starts_on,
                    )
                elif rep.sales_role in OVERLAYS:
                    services.overlay_add(
                        actor=actor,
                        territory=district,
                        user=rep,
                        overlay_role=OVERLAYS[rep.sales_role],
                        effective_from=starts_on,
                    )


def _build_rules(plan: _Plan, rng: random.Random) -> None:
    """Named-account rules per seller, region/industry rules for the rest; a few gaps/overlaps."""
    territories = plan.seller_territory
    accounts = list(
        Account.objects.filter(owner_id__in=list(territories))
        .order_by("pk")
        .values_list("pk", "owner_id", "region", "industry")
    )
    industries = sorted({industry for _, _, _, industry in accounts})
    sellers_in: dict[str, list[int]] = defaultdict(list)
    for pk, territory in sorted(territories.items()):
        sellers_in[territory.owner.region].append(pk)
    # Each region's industries go round its sellers; one industry per region stays uncovered.
    vertical: dict[tuple[str, str], int | None] = {}
    for number, (region, sellers) in enumerate(sorted(sellers_in.items())):
        # The uncovered industry is one the region has accounts in, so a gap can be drawn.
        present = sorted({industry for _, _, r, industry in accounts if r == region})
        skipped = (present or industries)[number % len(present or industries)]
        for i, industry in enumerate(industries):
            uncovered = industry == skipped
            vertical[region, industry] = None if uncovered else sellers[i % len(sellers)]
            if not uncovered:
                plan.regional.setdefault((region, sellers[i % len(sellers)]), []).append(industry)
    plan.named = {pk: [] for pk in territories}
    teammates = _teammates(territories)
    uncovered = [pk for pk, _, region, industry in accounts if vertical[region, industry] is None]
    gaps = set(rng.sample(uncovered, min(len(uncovered), _few(len(accounts), GAP_SHARE))))
    shared = [pk for pk, owner_id, *_ in accounts if teammates[owner_id] and pk not in gaps]
    overlaps = set(rng.sample(shared, min(len(shared), _few(len(accounts), OVERLAP_SHARE))))
    for pk, owner_id, region, industry in accounts:
        if pk in gaps:
            continue  # named by nobody, in an industry no regional rule covers
        is_routed = vertical[region, industry] == owner_id and rng.random() < ROUTED_SHARE
        if is_routed and pk not in overlaps:
            continue  # the region/industry rule picks it up, for the same owner
        plan.named[owner_id].append(pk)
        if pk in overlaps:
            plan.named[rng.choice(teammates[owner_id])].append(pk)
    for seller, account_ids in plan.named.items():
        territory = territories[seller]
        services.rule_create(
            actor=plan.actor,
            name=f"Named accounts: {territory.owner.get_full_name()}",
            territory=territory,
            priority=NAMED_PRIORITY,
            regions=[territory.owner.region],
            named_accounts=sorted(account_ids),
        )
    for (region, seller), covered in sorted(plan.regional.items()):
        services.rule_create(
            actor=plan.actor,
            name=f"New business {region}: {', '.join(covered)}"[:120],
            territory=territories[seller],
            priority=REGIONAL_PRIORITY,
            regions=[region],
            industries=covered,
        )
    plan.counts["assignment_rules"] = len(plan.named) + len(plan.regional)


def _few(total: int, share: float) -> int:
    """``share`` of ``total``, at least one: even a small demo shows a gap and an overlap."""
    return max(1, round(total * share))


def _teammates(territories: dict[int, Territory]) -> dict[int, list[int]]:
    by_district: dict[int, list[int]] = defaultdict(list)
    for pk, territory in sorted(territories.items()):
        by_district[territory.parent_id].append(pk)
    return {
        pk: [other for other in by_district[t.parent_id] if other != pk]
        for pk, t in territories.items()
    }


def _assign(plan: _Plan) -> None:
    """Apply the rules from the first deal quarter (the service, or in bulk when large)."""
    demo_accounts = Account.objects.filter(owner__in=demo_users())
    if (
        demo_accounts.count() <= SERVICE_PATH_MAX_ACCOUNTS
        # The service applies the rules to every account; only the demo's may move.
        and not Account.objects.exclude(pk__in=demo_accounts.values("pk")).exists()
    ):
        services.assignment_apply(actor=plan.actor, effective_on=plan.starts_on)
    else:
        _assign_in_bulk(plan)


def _assign_in_bulk(plan: _Plan) -> AssignmentRun:
    """Write what assignment_apply would, from the rules as built rather than by matching.

    The rows carry the fields the service writes (one run; per account the territory, the
    rule, source "rule", the actor). The service also sets each moved account's owner to the
    territory owner; here that owner is already the account's owner, so accounts stay as they
    are. tests/demo_data/test_territories.py checks the two paths write the same rows.
    """
    rules = {
        (rule.territory_id, rule.priority): rule.pk
        for rule in AssignmentRule.objects.filter(
            territory__in=[t.pk for t in plan.seller_territory.values()]
        )
    }
    claims: dict[int, list[int]] = defaultdict(list)
    for seller, account_ids in plan.named.items():
        for pk in account_ids:
            claims[pk].append(seller)
    industry_seller = {
        (region, industry): seller
        for (region, seller), industries in plan.regional.items()
        for industry in industries
    }
    moves = []
    accounts = Account.objects.filter(owner_id__in=list(plan.seller_territory)).order_by("pk")
    for pk, name, region, industry in accounts.values_list("pk", "name", "region", "industry"):
        sellers, priority = claims.get(pk, []), NAMED_PRIORITY
        if not sellers and (region, industry) in industry_seller:
            sellers, priority = [industry_seller[region, industry]], REGIONAL_PRIORITY
        if len(set(sellers)) != 1:
            continue  # a gap, or named by two teammates: the rules disagree
        territory = plan.seller_territory[sellers[0]]
        moves.append(
            selectors.Move(
                account_id=pk,
                account_name=name,
                from_territory_id=None,
                to_territory_id=territory.pk,
                to_owner_id=territory.owner_id,
                rule_id=rules[territory.pk, priority],
            )
        )
    fingerprint = selectors.AssignmentPlan("rules", plan.starts_on, moves).fingerprint
    run = AssignmentRun.objects.create(
        kind=AssignmentRun.Kind.RULES,
        applied_by=plan.actor,
        effective_on=plan.starts_on,
        fingerprint=fingerprint,
        moved_count=len(moves),
    )
    starts_on = connection.ops.adapt_datefield_value(plan.starts_on)
    insert_rows(
        AccountTerritoryAssignment,
        ASSIGNMENT_COLUMNS,
        [
            (m.account_id, m.to_territory_id, starts_on, RULE, m.rule_id, run.pk, plan.actor.pk)
            for m in moves
        ],
    )
    return run


# --- targets and quotas ----------------------------------------------------------------------


def _allocate_targets(
    plan: _Plan, rng: random.Random, *, history_start: dt.date, current: dt.date
) -> None:
    """A quota per seller per quarter from the first deal quarter to the next one.

    Each quarter's company target is near what the sellers were credited (times a stretch
    drawn in STRETCH; ahead, the mean of the last four quarters grown by GROWTH), split over
    the sellers by their historical share of bookings: each seller's credited bookings over
    the whole history relative to an average seller employed as long (floored at
    MIN_SHARE of the median, so a new hire or a weak quarter still carries a real quota).
    The ramp schedule then lowers new hires' quotas. A quarter whose bookings would pass
    MAX_ATTAINMENT of that quota (one outsized deal) had it planned: its quota is raised to
    bookings / MAX_ATTAINMENT.
    """
    quarters = [_add_quarters(plan.starts_on, k) for k in range(HISTORY_QUARTERS + 3)]
    for year in sorted({q.year for q in quarters}):
        periods_ensure(year=year)
    periods = [
        p
        for p in Period.objects.filter(kind=Period.Kind.QUARTER, start_on__in=quarters).order_by(
            "start_on"
        )
    ]
    sellers = sorted(plan.seller_territory)
    people = {u.pk: u for u in User.objects.filter(pk__in=sellers)}
    credited = credited_bookings(periods=periods, user_ids=sellers)
    percentages = selectors.ramp_percentages()
    ramp = {
        (pk, p.pk): ramp_factor(
            hire_date=people[pk].hire_date,
            start_on=p.start_on,
            end_on=p.end_on,
            percentages=percentages,
        )
        for pk in sellers
        for p in periods
    }
    past = [p for p in periods if p.start_on < current]
    company = {p.pk: sum((credited.get((pk, p.pk), ZERO) for pk in sellers), ZERO) for p in past}
    employed = {p.pk: sum((ramp[pk, p.pk] for pk in sellers), ZERO) for p in past}
    # Share: a seller's bookings over what an average seller with their ramp booked.
    share = {}
    for pk in sellers:
        expected = sum(
            (company[p.pk] * ramp[pk, p.pk] / employed[p.pk] for p in past if employed[p.pk]),
            ZERO,
        )
        booked = sum((credited.get((pk, p.pk), ZERO) for p in past), ZERO)
        share[pk] = booked / expected if expected else ZERO
    floor = sorted(share.values())[len(share) // 2] * MIN_SHARE if share else ZERO
    share = {pk: max(value, floor) or Decimal(1) for pk, value in share.items()}
    booked_targets: list[Decimal] = []
    demo_quotas = Quota.objects.filter(user__in=demo_users(), period__in=periods)
    if demo_quotas.exists():
        raise ApplicationError("The demo people have quotas already; use --reset.")
    for period in periods:
        if period.start_on < current:
            target = company[period.pk] * Decimal(f"{rng.uniform(*STRETCH):.3f}")
            booked_targets.append(company[period.pk])
        else:
            recent = booked_targets[-4:] or [ZERO]
            ahead = 1 + (period.start_on > current)
            target = sum(recent, ZERO) / len(recent) * GROWTH**ahead
        weight = sum((share[pk] * ramp[pk, period.pk] for pk in sellers), ZERO)
        lines = []
        for pk in sellers:
            factor = ramp[pk, period.pk]
            territory_quota = target * share[pk] / weight if weight else ZERO
            booked = credited.get((pk, period.pk), ZERO)
            if factor and period.start_on < current:
                territory_quota += PIPELINE_WEIGHT * (booked / factor - territory_quota)
            if factor and booked > territory_quota * factor * MAX_ATTAINMENT:
                territory_quota = booked / (factor * MAX_ATTAINMENT)
            # Whole hundreds, as a plan is written.
            territory_quota = (territory_quota / 100).quantize(Decimal(1), ROUND_UP) * 100
            lines.append((people[pk], plan.seller_territory[pk], territory_quota, factor))
        _write_quotas(
            actor=plan.executive,
            period=period,
            lines=lines,
            # Historical share once four quarters of bookings exist, territory potential before.
            method=CompanyTarget.Method.HISTORICAL
            if len(booked_targets) > 4
            else CompanyTarget.Method.POTENTIAL,
        )
    plan.counts["company_targets"] = len(periods)


def credited_bookings(*, periods: list[Period], user_ids: list[int]) -> dict[tuple, Decimal]:
    """Credited bookings per (person, period): the credit ledger's rows (compensation.ledger)."""
    if not periods:
        return {}
    credited: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for entry in ledger.ledger_entries(
        start_on=periods[0].start_on, end_on=periods[-1].end_on, person_ids=user_ids
    ):
        period_id = next(p.pk for p in periods if p.start_on <= entry.day <= p.end_on)
        credited[entry.person_id, period_id] += entry.amount
    return dict(credited)


def _write_quotas(
    *, actor: User, period: Period, lines: list[tuple[User, Territory, Decimal, Decimal]], method
) -> CompanyTarget:
    """Write the period's target (the sum of the territory quotas), its quotas and their audit
    rows as company_target_allocate would, in three statements."""
    amount = quantize_money(sum((line[2] for line in lines), ZERO))
    now = timezone.now()
    target = CompanyTarget.objects.create(
        period=period, amount=amount, method=method, allocated_by=actor, allocated_at=now
    )
    why = f"{period} target {amount} allocated by {CompanyTarget.Method(method).label.lower()}"
    why = f"{why}: Demo plan"[:255]
    quotas = Quota.objects.bulk_create(
        Quota(
            user=person,
            period=period,
            basis=Quota.Basis.COMPONENTS,
            territory=territory,
            territory_quota=territory_quota,
            assignment_share=Decimal(1),
            manager_adjustment=ZERO,
            ramp_factor=factor,
            amount=max(ramped_amount(territory_quota, Decimal(1), factor, ZERO), ZERO),
            version=1,
        )
        for person, territory, territory_quota, factor in lines
    )
    stored_now = connection.ops.adapt_datetimefield_value(now)
    insert_rows(
        QuotaChange,
        CHANGE_COLUMNS,
        [
            (quota.pk, name, "", value, why, QuotaChange.Source.ALLOCATION, actor.pk, stored_now)
            for quota in quotas
            # The service's own audit text: a new quota logs every term that is not empty.
            for name, value in quota_state(quota).items()
            if value
        ],
    )
    return target
