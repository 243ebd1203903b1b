"""Writes of a person's capture settings: the address, pausing, excluded domains."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.domains import DOMAIN
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import User
from salesmgmt.visibility import may_capture

from ..models import CaptureSettings, new_capture_token


def _ensure_may_capture(user: User) -> None:
    if not may_capture(user):
        raise PermissionDeniedError("Capture is for people who sell or lead, not integrations.")


@transaction.atomic
def capture_settings_ensure(*, user: User) -> CaptureSettings:
    """The person's capture settings, made on first use (a fresh address, default exclusions)."""
    _ensure_may_capture(user)
    capture, _ = CaptureSettings.objects.get_or_create(user=user)
    return capture


def clean_domains(domains: list[str] | str) -> list[str]:
    """Lower-case, de-duplicated domains; a field error names any that is not a domain."""
    if isinstance(domains, str):
        domains = re.split(r"[\s,;]+", domains)
    cleaned: list[str] = []
    for raw in domains:
        domain = str(raw).strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise ValidationError({"excluded_domains": f"“{domain}” is not a mail domain."})
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


@transaction.atomic
def capture_settings_update(
    *,
    user: User,
    is_paused: bool | None = None,
    excluded_domains: list[str] | str | None = None,
) -> CaptureSettings:
    """Pause or resume capture, replace the excluded domains; only the person themselves."""
    capture = capture_settings_ensure(user=user)
    if is_paused is not None:
        capture.is_paused = is_paused
    if excluded_domains is not None:
        capture.excluded_domains = clean_domains(excluded_domains)
    capture.full_clean()
    capture.save()
    return capture


@transaction.atomic
def capture_token_rotate(*, user: User) -> CaptureSettings:
    """A new address: mail to the old one is refused from now on (a leaked address)."""
    capture = capture_settings_ensure(user=user)
    capture.token = new_capture_token()
    capture.save(update_fields=["token", "updated_at"])
    return capture
