"""Two-factor sign-in: authenticator apps (TOTP), recovery codes, and the log-in in between.

The password step (salesmgmt.views.LoginView and the admin's log-in) never logs in a person
who needs a second factor: it remembers them in the session as *pending* for a few minutes,
and only the verify (or forced enrolment) step calls ``django.contrib.auth.login``.
Wrong codes count towards the lockout of salesmgmt.security (username + IP). API tokens are
a separate credential and never see any of this.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from . import security
from .audit import audit_record
from .models import RecoveryCode, TOTPDevice, User

RECOVERY_CODE_COUNT = 10
# ±1 step of 30 s: tolerates a phone clock a little off, as RFC 6238 §5.2 recommends.
VALID_WINDOW = 1
PENDING_SESSION_KEY = "two_factor_pending"
# A recovery code: 10 characters of a-z and 2-7 (50 bits), shown as two groups of five.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class SecondFactorLockedError(ValidationError):
    """Too many wrong codes for this username and IP: refused until the lockout ends."""


# --- who needs what ----------------------------------------------------------------------------


def is_required_for(user: User) -> bool:
    """Roles in TWO_FACTOR_REQUIRED_ROLES must use it; a superuser counts as an admin."""
    required = {role.strip() for role in settings.TWO_FACTOR_REQUIRED_ROLES if role.strip()}
    return user.role in required or (user.is_superuser and "admin" in required)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def needs_second_step(user: User) -> bool:
    return is_required_for(user) or confirmed_device(user) is not None


# --- the pending log-in between the two steps ---------------------------------------------------


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    next_url: str


def begin_pending_login(request: HttpRequest, *, user: User, next_url: str) -> None:
    """Remember that ``user`` passed the password step; nobody is logged in yet."""
    request.session.cycle_key()  # a fresh key for the half-authenticated session
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "started_at": int(time.time()),
    }


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """The pending log-in of this session, if it is recent enough and the user still active."""
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if int(time.time()) - int(data.get("started_at", 0)) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user_id = data.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    return PendingLogin(user=user, backend=data["backend"], next_url=data.get("next") or "")


def complete_login(request: HttpRequest, *, pending: PendingLogin) -> None:
    """The second factor passed: log the person in and clear every failure counter."""
    request.session.pop(PENDING_SESSION_KEY, None)
    login(request, pending.user, backend=pending.backend)
    security.login_succeeded(username=pending.user.username, ip=security.client_ip(request))


# --- enrolment ---------------------------------------------------------------------------------


@transaction.atomic
def device_start_enrolment(*, user: User) -> TOTPDevice:
    """Start or resume enrolment: the unconfirmed device, with a new secret the first time.

    Resuming keeps the secret, so reloading the page does not break an app already scanned.
    """
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None and device.is_confirmed:
        raise ValidationError("Two-factor sign-in is already on; turn it off first.")
    if device is None:
        return TOTPDevice.objects.create(user=user, secret=pyotp.random_base32())
    return device


def provisioning_uri(device: TOTPDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(
        name=device.user.email or device.user.username, issuer_name=settings.TWO_FACTOR_ISSUER
    )


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI as an SVG QR code in a data: URI (no request leaves the page)."""
    return segno.make(provisioning_uri(device), error="m").svg_data_uri(scale=4, border=2)


def secret_for_display(device: TOTPDevice) -> str:
    """The secret in groups of four, for typing by hand; only while unconfirmed."""
    if device.is_confirmed:
        raise ValidationError("The secret of a confirmed device is never shown again.")
    return " ".join(device.secret[i : i + 4] for i in range(0, len(device.secret), 4))


def device_confirm(
    *, device: TOTPDevice, code: str, request: HttpRequest | None = None
) -> list[str]:
    """Confirm an enrolment with a code from the app; returns new recovery codes (shown once)."""
    if device.is_confirmed:
        raise ValidationError("This authenticator is already confirmed.")
    _check_not_locked(user=device.user, request=request)
    step = _matching_step(device, code)
    if step is None:
        _count_failure(user=device.user, request=request, method="enrolment")
        raise ValidationError("That code does not match. Check the app and try again.")
    with transaction.atomic():
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step", "updated_at"])
        codes = _replace_recovery_codes(user=device.user)
        audit_record(
            action="two_factor.enrolled", actor=device.user, target=device.user, request=request
        )
    return codes


# --- verification ------------------------------------------------------------------------------


def verify(*, user: User, code: str, request: HttpRequest | None = None) -> str:
    """Check a code from the app or a recovery code; returns "totp" or "recovery".

    Raises ValidationError for a wrong or replayed code (counted towards the lockout) and
    SecondFactorLockedError while the username+IP is locked out.
    """
    _check_not_locked(user=user, request=request)
    device = confirmed_device(user)
    cleaned = "".join(code.split())
    if device is not None and cleaned.isdigit():
        step = _matching_step(device, cleaned)
        # One UPDATE both checks and records the step, so two requests racing with the same
        # code cannot both pass: a step at or before last_used_step is a replay.
        if step is not None and (
            TOTPDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
                last_used_step=step, updated_at=timezone.now()
            )
        ):
            return "totp"
    elif _use_recovery_code(user=user, code=cleaned):
        remaining = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        audit_record(
            action="two_factor.recovery_code_used",
            actor=user,
            target=user,
            details={"remaining": remaining},
            request=request,
        )
        return "recovery"
    _count_failure(user=user, request=request, method="verify")
    raise ValidationError("That code is not valid (or was already used).", code="invalid")


def disable(*, user: User, code: str, request: HttpRequest | None = None) -> None:
    """Turn two-factor sign-in off, after a current code; refused where a role requires it."""
    if is_required_for(user):
        raise ValidationError("Your role requires two-factor sign-in; it cannot be turned off.")
    # Checked outside the transaction: a wrong code's audit event must not roll back.
    verify(user=user, code=code, request=request)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit_record(action="two_factor.disabled", actor=user, target=user, request=request)


def regenerate_recovery_codes(
    *, user: User, code: str, request: HttpRequest | None = None
) -> list[str]:
    """New recovery codes after a current code; the old ones stop working."""
    if confirmed_device(user) is None:
        raise ValidationError("Two-factor sign-in is off.")
    verify(user=user, code=code, request=request)
    with transaction.atomic():
        codes = _replace_recovery_codes(user=user)
        audit_record(
            action="two_factor.recovery_codes_regenerated",
            actor=user,
            target=user,
            request=request,
        )
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- internals ---------------------------------------------------------------------------------


def _matching_step(device: TOTPDevice, code: str) -> int | None:
    """The time step (within ±VALID_WINDOW of now) whose code is ``code``, if any."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(device.secret)
    now_step = totp.timecode(time.time())
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash_recovery_code(code: str) -> str:
    normalized = code.replace("-", "").strip().lower()
    return hashlib.sha256(normalized.encode()).hexdigest()


def _replace_recovery_codes(*, user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_hash_recovery_code(code)) for code in codes
    )
    return codes


def _use_recovery_code(*, user: User, code: str) -> bool:
    """Spend a recovery code: one UPDATE, so the same code cannot be used twice, even racing."""
    if len(code.replace("-", "")) != 10:
        return False
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=_hash_recovery_code(code), used_at__isnull=True
        ).update(used_at=timezone.now(), updated_at=timezone.now())
    )


def _ip(request: HttpRequest | None) -> str:
    return security.client_ip(request) if request is not None else ""


def _check_not_locked(*, user: User, request: HttpRequest | None) -> None:
    if security.login_is_locked(username=user.username, ip=_ip(request)):
        raise _locked_error()


def _count_failure(*, user: User, request: HttpRequest | None, method: str) -> None:
    locked = security.login_failed(
        username=user.username, ip=_ip(request), factor=security.SECOND_FACTOR
    )
    details: dict[str, Any] = {"step": method, "locked": locked}
    audit_record(
        action="two_factor.failed", actor=user, target=user, details=details, request=request
    )
    if locked:
        raise _locked_error()


def _locked_error() -> SecondFactorLockedError:
    minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    return SecondFactorLockedError(
        f"Too many wrong codes. Try again in {minutes} minutes.", code="locked"
    )


@transaction.atomic
def reset(*, user: User, actor: User, request: HttpRequest | None = None) -> None:
    """An admin removes a person's authenticator and codes (lost phone and codes).

    A role that requires two factors sets up a new authenticator at the next log-in.
    """
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(action="two_factor.reset", actor=actor, target=user, request=request)
