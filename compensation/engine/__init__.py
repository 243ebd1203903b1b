"""The payout engine: plan rules and one rep's period inputs in, explained line items out.

Pure Python (dataclasses and ``Decimal``), no ORM: payout runs (``compensation.services``)
and the what-if calculator both call ``calculate`` with inputs gathered by
``compensation.inputs``, so a what-if is the real run plus hypothetical deals, never a copy.

Rounding rule (the one rule for every payout amount): each line is computed at full
``Decimal`` precision and quantized once to cents with ROUND_HALF_UP
(``salesmgmt.money.quantize_money``); a statement's total is the sum of its quantized lines,
so the lines always add up to the total exactly, to the cent.

Order of the lines, which is also the order rules apply in:

1. commission per credited deal (tiers by attainment, marginal or whole-tier; then an
   optional decelerator below a threshold; then an optional cap on the period's commission);
2. threshold bonuses; 3. SPIFs;
4. the documentation-compliance multiplier, one line scaling the sum of lines 1-3;
5. clawbacks (negative lines reversing a cancelled deal's earlier pay);
6. the guarantee (a top-up to the guaranteed amount) or the recovery of an earlier draw.

Attainment = credited bookings / quota, as a fraction (1 = 100 %). Credited bookings are the
period's credit-ledger rows (``compensation.ledger``): the credited deals' amounts plus the
``debits`` (negative) of deals won earlier and cancelled in the period, which earn nothing;
below the first tier's floor (even negative) the first tier applies. A tier applies from its
``floor`` (inclusive) to the next tier's floor (exclusive); in money, a tier starts at
``floor x quota``. With no quota the attainment is unknown: every booking is paid at the first
tier's rate and attainment-based rules (higher tiers, bonuses, decelerators) do not apply.
"""

from .calculate import allocate_credit, attainment_of, calculate
from .rules import (
    EARNED_KINDS,
    Clawback,
    CommissionRule,
    ComplianceRule,
    Deal,
    GuaranteeRule,
    Line,
    LineKind,
    Method,
    PayoutInput,
    PayoutResult,
    Rule,
    SpifRule,
    ThresholdBonusRule,
    Tier,
    money,
    percent,
)

__all__ = [
    "EARNED_KINDS",
    "Clawback",
    "CommissionRule",
    "ComplianceRule",
    "Deal",
    "GuaranteeRule",
    "Line",
    "LineKind",
    "Method",
    "PayoutInput",
    "PayoutResult",
    "Rule",
    "SpifRule",
    "ThresholdBonusRule",
    "Tier",
    "allocate_credit",
    "attainment_of",
    "calculate",
    "money",
    "percent",
]
