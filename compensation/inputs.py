"""Reads that gather the engine's inputs for a period: plans, credit, quota, compliance, clawbacks.

The payout run and the what-if calculator both start here, so they see the same numbers.
A constant number of queries whatever the number of reps or deals.

- Plan: a person's own assignment wins over a sales-role one, over a role one; among those,
  the latest ``effective_from`` overlapping the period. Components overlapping the period apply.
- Credit: the credit ledger's rows of the period (``compensation.ledger``: deals won in it,
  converted to the reporting currency on the close day, credited by ``CreditSplit`` rows or
  100 % to the owner; less the credit of deals cancelled in it). Deals won in the period earn
  commission on their credit (nothing when also cancelled in it); deals won earlier and
  cancelled in it are debits: they lower the bookings (so attainment) and earn nothing; pay
  already made on them comes back through the clawbacks below. On a plan with overlay
  credit, a manager is also credited with every primary row of their reporting subtree.
- Quota: the ramped quota from ``territories.selectors.attainment_compute_by_user`` (for a
  manager, their subtree's), computed live: pay is never based on the pages' precomputed
  figures; attainment is recomputed from the credited bookings above.
- Compliance: ``coaching.compliance`` as of the period's last day (today while it is open).
- Clawbacks: lines paid in the latest processed run of an earlier period, whose deal was
  cancelled by the end of this period within the component's ``clawback_days`` of closing,
  and not yet reversed in a processed run of another period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Opportunity
from coaching.compliance import compliance_scores
from salesmgmt.models import Period, Role, User
from salesmgmt.money import RateTable
from territories.selectors import attainment_compute_by_user

from . import engine, ledger
from .models import PayoutRun, Plan, PlanAssignment, PlanComponent, StatementLine
from .parameters import rule_for

ZERO = Decimal(0)
CLAWBACK_KINDS = (engine.LineKind.COMMISSION, engine.LineKind.SPIF)


@dataclass
class RepInputs:
    rep: User
    plan: Plan
    components: list[PlanComponent]
    payout: engine.PayoutInput

    def calculate(self) -> engine.PayoutResult:
        return engine.calculate(self.payout)


@dataclass
class _Credit:
    amount: Decimal = ZERO
    notes: list[str] = field(default_factory=list)


def _overlaps(period: Period) -> Q:
    return Q(effective_from__lte=period.end_on) & (
        Q(effective_to__isnull=True) | Q(effective_to__gt=period.start_on)
    )


def plans_for(
    *, period: Period, user_ids: list[int] | None = None
) -> dict[int, tuple[User, Plan, list[PlanComponent]]]:
    """Each paid person's plan and its components in force during ``period`` (3 queries)."""
    people = User.objects.filter(is_active=True).exclude(role=Role.INTEGRATOR)
    if user_ids is not None:
        people = people.filter(pk__in=user_ids)
    people = list(people.order_by("pk"))
    assignments = list(
        PlanAssignment.objects.filter(_overlaps(period))
        .select_related("plan")
        .order_by("effective_from", "id")
    )
    chosen: dict[int, Plan] = {}
    for person in people:
        for matches in (
            lambda a, p=person: a.user_id == p.pk,
            lambda a, p=person: bool(p.sales_role) and a.role == p.sales_role,
            lambda a, p=person: a.role == p.role,
        ):
            found = [a for a in assignments if matches(a)]
            if found:
                chosen[person.pk] = found[-1].plan
                break
    components: dict[int, list[PlanComponent]] = defaultdict(list)
    plan_ids = {plan.pk for plan in chosen.values()}
    for component in PlanComponent.objects.filter(_overlaps(period), plan_id__in=plan_ids).order_by(
        "plan_id", "order", "id"
    ):
        components[component.plan_id].append(component)
    return {
        person.pk: (person, chosen[person.pk], components[chosen[person.pk].pk])
        for person in people
        if person.pk in chosen
    }


def _credits(
    *, period: Period, people: dict[int, User], overlay_ids: set[int]
) -> tuple[
    dict[int, dict[int, _Credit]],
    dict[int, dict[int, _Credit]],
    dict[int, Opportunity],
    dict[int, Decimal],
    set[int],
]:
    """Credit per person per deal from the ledger: the period's credits and its debits (deals
    closed earlier and cancelled in it), the deals, their amounts and the new logos (4
    queries: rates, ledger rows, deals, first wins; 5 with overlay managers: the people).

    A deal closed and cancelled in this period nets to nothing and earns nothing.
    """
    rates = RateTable.load()
    entries = ledger.period_entries(period=period, rates=rates)
    if overlay_ids:
        credited = {u.pk: u for u in User.objects.filter(pk__in={e.person_id for e in entries})}
        entries += ledger.overlay_entries(
            entries,
            manager_paths={uid: people[uid].subtree_path for uid in sorted(overlay_ids)},
            ancestor_paths={pk: u.ancestor_path for pk, u in credited.items()},
            names={pk: str(u) for pk, u in credited.items()},
        )
    deal_ids = {e.opportunity_id for e in entries}
    deals = {
        deal.pk: deal
        for deal in Opportunity.objects.filter(pk__in=deal_ids).order_by("closed_on", "id")
    }
    closed_here = {pk for pk, d in deals.items() if period.contains(d.closed_on)}
    amounts = {pk: rates.convert(d.amount, d.currency, d.closed_on) for pk, d in deals.items()}
    credits: dict[int, dict[int, _Credit]] = defaultdict(lambda: defaultdict(_Credit))
    debits: dict[int, dict[int, _Credit]] = defaultdict(lambda: defaultdict(_Credit))
    for entry in entries:
        into = credits if entry.opportunity_id in closed_here else debits
        credit = into[entry.person_id][entry.opportunity_id]
        credit.amount += entry.amount
        credit.notes.append(entry.note)
    for by_deal in credits.values():  # closed and cancelled in this period: nothing credited
        for deal_id in [pk for pk, credit in by_deal.items() if not credit.amount]:
            del by_deal[deal_id]
    first_won: dict[int, int] = {}
    for account_id, deal_id in (
        Opportunity.objects.filter(
            status=Opportunity.Status.WON,
            account_id__in={d.account_id for d in deals.values()},
        )
        .order_by("closed_on", "id")
        .values_list("account_id", "id")
    ):
        first_won.setdefault(account_id, deal_id)
    new_logos = {pk for pk in closed_here if first_won.get(deals[pk].account_id) == pk}
    return credits, debits, deals, amounts, new_logos


def _engine_deals(
    credits: dict[int, _Credit],
    deals: dict[int, Opportunity],
    amounts: dict[int, Decimal],
    new_logos: set[int],
) -> tuple[engine.Deal, ...]:
    return tuple(
        engine.Deal(
            opportunity_id=deal_id,
            name=deals[deal_id].name,
            closed_on=deals[deal_id].closed_on,
            amount=credit.amount,
            deal_amount=amounts[deal_id],
            credit_note="; ".join(credit.notes),
            is_new_logo=deal_id in new_logos,
        )
        for deal_id, credit in sorted(credits.items())
    )


def _latest_processed_runs(*, before: dt.date) -> dict[int, int]:
    """Per earlier period (ending before ``before``), its latest processed run id (1 query)."""
    rows = (
        PayoutRun.objects.filter(status=PayoutRun.Status.PROCESSED, period__end_on__lt=before)
        .values("period_id")
        .annotate(latest=Max("id"))
    )
    return {row["period_id"]: row["latest"] for row in rows}


def _clawbacks(*, period: Period, rep_ids: list[int]) -> dict[int, list[engine.Clawback]]:
    """Earlier paid lines to reverse this period, per rep (3 queries)."""
    latest = _latest_processed_runs(before=period.start_on)
    candidates = list(
        StatementLine.objects.filter(
            statement__run_id__in=list(latest.values()),
            statement__rep_id__in=rep_ids,
            kind__in=CLAWBACK_KINDS,
            component__clawback_days__isnull=False,
            opportunity__cancellation__cancelled_on__lte=period.end_on,
        )
        .select_related("statement__run__period", "component", "opportunity__cancellation")
        .order_by("statement__rep_id", "id")
    )
    reversed_ids = set(
        StatementLine.objects.filter(
            linked_line_id__in=[line.pk for line in candidates],
            statement__run__status=PayoutRun.Status.PROCESSED,
        )
        .exclude(statement__run__period=period)
        .values_list("linked_line_id", flat=True)
    )
    result: dict[int, list[engine.Clawback]] = defaultdict(list)
    for line in candidates:
        deal = line.opportunity
        cancellation = deal.cancellation
        window = line.component.clawback_days
        if line.pk in reversed_ids or (cancellation.cancelled_on - deal.closed_on).days > window:
            continue
        result[line.statement.rep_id].append(
            engine.Clawback(
                opportunity_id=deal.pk,
                name=deal.name,
                original_line_id=line.pk,
                original_amount=line.amount,
                original_period=line.statement.run.period.name,
                closed_on=deal.closed_on,
                cancelled_on=cancellation.cancelled_on,
                window_days=window,
                component_id=line.component_id,
            )
        )
    return result


def _outstanding_draws(*, period: Period, rep_ids: list[int]) -> dict[int, Decimal]:
    """Recoverable draw paid in earlier periods and not yet won back, per rep (2 queries)."""
    latest = _latest_processed_runs(before=period.start_on)
    rows = StatementLine.objects.filter(
        statement__run_id__in=list(latest.values()),
        statement__rep_id__in=rep_ids,
        kind__in=(engine.LineKind.GUARANTEE, engine.LineKind.DRAW_RECOVERY),
    ).values_list("statement__rep_id", "kind", "amount", "inputs")
    balance: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for rep_id, kind, amount, inputs in rows:
        if kind == engine.LineKind.DRAW_RECOVERY or inputs.get("recoverable") == "True":
            balance[rep_id] += amount
    return dict(balance)


def compliance_day(period: Period) -> dt.date:
    return min(period.end_on, timezone.localdate())


def payout_inputs(*, period: Period, user_ids: list[int] | None = None) -> dict[int, RepInputs]:
    """Every paid person's engine input for ``period`` (or only ``user_ids``'), by user id."""
    plans = plans_for(period=period, user_ids=user_ids)
    if not plans:
        return {}
    rep_ids = sorted(plans)
    people = {uid: person for uid, (person, _, _) in plans.items()}
    overlay_ids = {
        uid
        for uid, (person, plan, _) in plans.items()
        if plan.manager_overlay_credit and person.role == Role.MANAGER
    }
    credits, debits, deals, amounts, new_logos = _credits(
        period=period, people=people, overlay_ids=overlay_ids
    )
    quotas = attainment_compute_by_user(period=period, user_ids=rep_ids)
    scores = compliance_scores(user_ids=rep_ids, as_of=compliance_day(period))
    clawbacks = _clawbacks(period=period, rep_ids=rep_ids)
    draws = _outstanding_draws(period=period, rep_ids=rep_ids)
    result = {}
    for uid in rep_ids:
        person, plan, components = plans[uid]
        rules = tuple(
            rule_for(
                kind=c.kind,
                params=c.parameters,
                component_id=c.pk,
                name=c.name,
                effective_from=c.effective_from,
                effective_to=c.effective_to,
            )
            for c in components
        )
        quota = quotas[uid].ramped_quota
        result[uid] = RepInputs(
            rep=person,
            plan=plan,
            components=components,
            payout=engine.PayoutInput(
                rep_id=uid,
                period_name=period.name,
                quota=quota or None,
                deals=_engine_deals(credits.get(uid, {}), deals, amounts, new_logos),
                debits=_engine_deals(debits.get(uid, {}), deals, amounts, new_logos),
                rules=rules,
                compliance_score=scores[uid].score,
                clawbacks=tuple(clawbacks.get(uid, [])),
                outstanding_draw=draws.get(uid, ZERO),
            ),
        )
    return result


def inputs_hash(inputs: dict[int, RepInputs]) -> str:
    """A fingerprint of everything the engine will read, to skip a recompute with no change."""
    payload = [
        {"plan": rep.plan.pk, "input": asdict(rep.payout)} for _, rep in sorted(inputs.items())
    ]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
