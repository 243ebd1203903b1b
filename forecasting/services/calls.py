"""Forecast calls: the owner's call, the manager's adjustment layer and the weekly lock.

Layers of a person's number for a period, each kept separately and append-only:

1. the system's figures (``ForecastRollup``);
2. the owner's call (``CallLayer.OWNER``): a rep's call on their deals, a manager's call on
   their team; the owner's adjustment of the system figure;
3. a manager's adjustment (``CallLayer.MANAGER``) of someone below them, with a required note.

Each submission stores the figures it replaced (old → new), who and when: the audit record.
The latest row of a layer is in force and carries over until a new one; the weekly lock
copies what is in force into ``CallOfRecord``, which never changes afterwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt.audit import audit_record
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Period, User
from salesmgmt.money import parse_money
from salesmgmt.visibility import manages

from ..models import CallLayer, CallOfRecord, ForecastCall
from .context import FORECAST_KIND, window_quarters


def _amount(value: object, field: str) -> Decimal:
    return parse_money(value, field=field)


def _check_period_open_for_calls(period: Period, at: dt.datetime) -> None:
    """Calls are made for the periods the system forecasts (quarters) until they end."""
    if period.kind != FORECAST_KIND:
        kind = period.get_kind_display().lower()
        raise ValidationError({"period": f"Calls are made for quarters; {period} is a {kind}."})
    if period.end_on < timezone.localdate(at):
        raise ValidationError({"period": f"{period} has ended; calls are only for open quarters."})


def latest_call(
    *, person: User, period: Period, layer: str = CallLayer.OWNER
) -> ForecastCall | None:
    """The call in force for a layer: the latest submission (it carries over)."""
    return (
        ForecastCall.objects.filter(person=person, period=period, layer=layer)
        .order_by("-submitted_at", "-id")
        .first()
    )


def _submit(
    *,
    actor: User,
    person: User,
    period: Period,
    layer: str,
    commit_amount: object,
    best_case_amount: object,
    note: str,
    at: dt.datetime | None,
) -> ForecastCall:
    _check_period_open_for_calls(period, at or timezone.now())
    commit = _amount(commit_amount, "commit_amount")
    best_case = _amount(best_case_amount, "best_case_amount")
    if best_case < commit:
        raise ValidationError({"best_case_amount": "Best case cannot be below commit."})
    previous = latest_call(person=person, period=period, layer=layer)
    if previous is None and layer == CallLayer.MANAGER:
        previous = latest_call(person=person, period=period, layer=CallLayer.OWNER)
    call = ForecastCall(
        person=person,
        period=period,
        layer=layer,
        commit_amount=commit,
        best_case_amount=best_case,
        previous_commit_amount=previous.commit_amount if previous else None,
        previous_best_case_amount=previous.best_case_amount if previous else None,
        note=note.strip(),
        submitted_by=actor,
        submitted_at=at or timezone.now(),
    )
    call.full_clean()
    call.save()
    refresh.changed(people=[person.pk], periods=[period.pk])
    _emit_submitted(call)
    action = "forecast.call_adjusted" if layer == CallLayer.MANAGER else "forecast.call_submitted"
    audit_record(
        action=action, actor=actor, target=call, details={"commit": commit, "best_case": best_case}
    )
    return call


def _emit_submitted(call: ForecastCall) -> None:
    from salesmgmt import webhooks

    webhooks.emit(
        "forecast.submitted",
        subject=call,
        data={
            "person_id": call.person_id,
            "period_id": call.period_id,
            "layer": call.layer,
            "commit_amount": str(call.commit_amount),
            "best_case_amount": str(call.best_case_amount),
            "submitted_by_id": call.submitted_by_id,
        },
    )


@transaction.atomic
def call_submit(
    *,
    actor: User,
    period: Period,
    commit_amount: object,
    best_case_amount: object,
    note: str = "",
    at: dt.datetime | None = None,
) -> ForecastCall:
    """The actor's own call for the period (their deals, or their team's for a manager)."""
    return _submit(
        actor=actor,
        person=actor,
        period=period,
        layer=CallLayer.OWNER,
        commit_amount=commit_amount,
        best_case_amount=best_case_amount,
        note=note,
        at=at,
    )


@transaction.atomic
def call_adjust(
    *,
    actor: User,
    person: User,
    period: Period,
    commit_amount: object,
    best_case_amount: object,
    note: str,
    at: dt.datetime | None = None,
) -> ForecastCall:
    """A manager's adjustment of someone below them; the note says why."""
    if not manages(actor, person):
        raise PermissionDeniedError("Only someone above this person can adjust their call.")
    if not note.strip():
        raise ValidationError({"note": "Say why you adjust this call."})
    return _submit(
        actor=actor,
        person=person,
        period=period,
        layer=CallLayer.MANAGER,
        commit_amount=commit_amount,
        best_case_amount=best_case_amount,
        note=note,
        at=at,
    )


@transaction.atomic
def calls_lock(*, at: dt.datetime | None = None) -> int:
    """Freeze this week's call of record for everyone who has ever called an open period.

    The latest call submitted up to ``at`` is copied, so a call carries over from earlier
    weeks. A week already locked is left as it was (running the lock twice changes nothing).
    """
    at = at or timezone.now()
    locked_on = timezone.localdate(at)
    periods = [p for p in window_quarters(today=locked_on) if p.end_on >= locked_on]
    calls = ForecastCall.objects.filter(period__in=periods, submitted_at__lte=at).order_by(
        "submitted_at", "id"
    )
    latest: dict[tuple[int, int], dict[str, ForecastCall]] = {}
    for call in calls:
        latest.setdefault((call.person_id, call.period_id), {})[call.layer] = call
    created = 0
    for (person_id, period_id), layers in sorted(latest.items()):
        owner = layers.get(CallLayer.OWNER)
        manager = layers.get(CallLayer.MANAGER)
        _, is_new = CallOfRecord.objects.get_or_create(
            person_id=person_id,
            period_id=period_id,
            locked_on=locked_on,
            defaults={
                "owner_call": owner,
                "commit_amount": owner.commit_amount if owner else Decimal(0),
                "best_case_amount": owner.best_case_amount if owner else Decimal(0),
                "manager_commit_amount": manager.commit_amount if manager else None,
                "manager_best_case_amount": manager.best_case_amount if manager else None,
            },
        )
        created += is_new
    return created
