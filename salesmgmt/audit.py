"""The audit log: one call per security- or money-relevant action (see AuditEvent)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from .models import AuditEvent, User
from .security import client_ip


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event; inside a service's transaction it rolls back with the action."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # AnonymousUser
    # The same client address as the lockout (X-Forwarded-For only from TRUSTED_PROXIES).
    ip = (client_ip(request) or None) if request is not None else None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        details=details or {},
        ip=ip,
    )


# Receivers of django.contrib.auth's log-in signals, connected in SalesmgmtConfig.ready().


def record_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action="login.succeeded", actor=user, target=user, request=request)


def record_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(action="login.failed", details={"username": username}, request=request)
