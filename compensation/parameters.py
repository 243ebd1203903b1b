"""The terms of each component kind, as typed in the admin, and their engine rules.

Percentages are written as people say them ("8" for 8 %) and become fractions for the engine.
Examples of ``PlanComponent.parameters``:

- commission: ``{"method": "marginal", "tiers": [{"from_percent": "0", "rate_percent": "4"},
  {"from_percent": "50", "rate_percent": "8"}, {"from_percent": "100", "rate_percent": "12"}],
  "decelerator_below_percent": "50", "decelerator_factor": "0.5", "cap_amount": "50000"}``
- threshold_bonus: ``{"threshold_percent": "100", "amount": "5000"}``
- spif (the component's effective dates are its date range): ``{"fixed_amount": "500",
  "rate_percent": "0", "min_deal_amount": "50000", "new_logo_only": true,
  "product_keyword": "Analytics"}``
- guarantee: ``{"amount": "3000", "recoverable": false}``
- compliance: ``{"bands": [{"from_percent": "90", "multiplier": "1"},
  {"from_percent": "75", "multiplier": "0.95"}, {"from_percent": "0", "multiplier": "0.9"}]}``
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from . import engine

HUNDRED = Decimal(100)


def _decimal(params: dict, key: str, *, required: bool = True, minimum: Decimal | None = None):
    value = params.get(key)
    if value in (None, ""):
        if required:
            raise ValidationError({"parameters": f"“{key}” is required."})
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"parameters": f"“{key}” must be a number."}) from None
    if not number.is_finite() or (minimum is not None and number < minimum):
        raise ValidationError({"parameters": f"“{key}” must be at least {minimum}."})
    return number


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def parse_parameters(kind: str, params: object) -> dict:
    """The parameters checked and normalized (numbers as strings); a ValidationError if not."""
    if not isinstance(params, dict):
        raise ValidationError({"parameters": "Give the terms as a JSON object."})
    zero = Decimal(0)
    if kind == "commission":
        method = params.get("method", engine.Method.MARGINAL)
        if method not in set(engine.Method):
            raise ValidationError({"parameters": "“method” is marginal or whole_tier."})
        tiers = params.get("tiers")
        if not isinstance(tiers, list) or not tiers:
            raise ValidationError({"parameters": "Give at least one tier."})
        parsed = [
            (_decimal(t, "from_percent", minimum=zero), _decimal(t, "rate_percent", minimum=zero))
            for t in tiers
            if isinstance(t, dict)
        ]
        floors = [floor for floor, _ in parsed]
        if len(parsed) != len(tiers) or floors[0] != 0 or floors != sorted(set(floors)):
            raise ValidationError(
                {"parameters": "Tiers start at 0% and their “from_percent” values increase."}
            )
        below = _decimal(params, "decelerator_below_percent", required=False, minimum=zero)
        factor = _decimal(params, "decelerator_factor", required=False, minimum=zero)
        if (below is None) != (factor is None):
            raise ValidationError(
                {"parameters": "A decelerator needs both a threshold and a factor."}
            )
        return {
            "method": str(method),
            "tiers": [{"from_percent": str(f), "rate_percent": str(r)} for f, r in parsed],
            "decelerator_below_percent": _text(below),
            "decelerator_factor": _text(factor),
            "cap_amount": _text(_decimal(params, "cap_amount", required=False, minimum=zero)),
        }
    if kind == "threshold_bonus":
        return {
            "threshold_percent": str(_decimal(params, "threshold_percent", minimum=zero)),
            "amount": str(_decimal(params, "amount", minimum=zero)),
        }
    if kind == "spif":
        fixed = _decimal(params, "fixed_amount", required=False, minimum=zero) or zero
        rate = _decimal(params, "rate_percent", required=False, minimum=zero) or zero
        if not fixed and not rate:
            raise ValidationError({"parameters": "A SPIF pays a fixed amount or a percentage."})
        return {
            "fixed_amount": str(fixed),
            "rate_percent": str(rate),
            "min_deal_amount": _text(
                _decimal(params, "min_deal_amount", required=False, minimum=zero)
            ),
            "new_logo_only": bool(params.get("new_logo_only", False)),
            "product_keyword": str(params.get("product_keyword", "")).strip(),
        }
    if kind == "guarantee":
        return {
            "amount": str(_decimal(params, "amount", minimum=zero)),
            "recoverable": bool(params.get("recoverable", False)),
        }
    if kind == "compliance":
        bands = params.get("bands")
        if not isinstance(bands, list) or not bands or not all(isinstance(b, dict) for b in bands):
            raise ValidationError({"parameters": "Give at least one band."})
        parsed = sorted(
            (
                (_decimal(b, "from_percent", minimum=zero), _decimal(b, "multiplier", minimum=zero))
                for b in bands
            ),
            reverse=True,
        )
        return {
            "bands": [{"from_percent": str(f), "multiplier": str(m)} for f, m in parsed],
        }
    raise ValidationError({"kind": f"Unknown component kind “{kind}”."})


def _fraction(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value) / HUNDRED


def _amount(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def rule_for(
    *,
    kind: str,
    params: dict,
    component_id: int | None,
    name: str,
    effective_from: dt.date,
    effective_to: dt.date | None,
) -> engine.Rule:
    """The engine rule of a component (``params`` already normalized by parse_parameters)."""
    if kind == "commission":
        return engine.CommissionRule(
            component_id=component_id,
            name=name,
            method=engine.Method(params["method"]),
            tiers=tuple(
                engine.Tier(floor=_fraction(t["from_percent"]), rate=_fraction(t["rate_percent"]))
                for t in params["tiers"]
            ),
            decelerator_below=_fraction(params.get("decelerator_below_percent")),
            decelerator_factor=_amount(params.get("decelerator_factor")),
            cap_amount=_amount(params.get("cap_amount")),
        )
    if kind == "threshold_bonus":
        return engine.ThresholdBonusRule(
            component_id=component_id,
            name=name,
            threshold=_fraction(params["threshold_percent"]),
            amount=Decimal(params["amount"]),
        )
    if kind == "spif":
        return engine.SpifRule(
            component_id=component_id,
            name=name,
            start_on=effective_from,
            # effective_to is exclusive; the engine's range is inclusive.
            end_on=(effective_to - dt.timedelta(days=1)) if effective_to else dt.date.max,
            fixed_amount=Decimal(params["fixed_amount"]),
            rate=_fraction(params["rate_percent"]),
            min_deal_amount=_amount(params.get("min_deal_amount")),
            new_logo_only=params.get("new_logo_only", False),
            product_keyword=params.get("product_keyword", ""),
        )
    if kind == "guarantee":
        return engine.GuaranteeRule(
            component_id=component_id,
            name=name,
            amount=Decimal(params["amount"]),
            recoverable=params.get("recoverable", False),
        )
    if kind == "compliance":
        return engine.ComplianceRule(
            component_id=component_id,
            name=name,
            bands=tuple(
                (_fraction(b["from_percent"]), Decimal(b["multiplier"])) for b in params["bands"]
            ),
        )
    raise ValueError(f"Unknown component kind {kind!r}")
