"""Outgoing mail settings from the environment: ``EMAIL_URL`` or the ``EMAIL_HOST``... variables.

``EMAIL_URL`` (django-environ's e-mail URL: ``smtp+tls://user:password@host:587``,
``smtp+ssl://...:465``, ``smtp://host:25``, ``consolemail://``) says everything at once and
wins over the separate variables. With neither, mail is not configured and goes to
``unconfigured_backend``: the log in production, files under ``var/mail/`` under
``make run`` (settings.local), Django's in-memory outbox in tests.
"""

from __future__ import annotations

from typing import Any

import environ

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
MEMORY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def email_settings(env: environ.Env, *, unconfigured_backend: str) -> dict[str, Any]:
    """The ``EMAIL_*`` settings, and ``EMAIL_CONFIGURED`` (a real server or backend was named)."""
    url = env("EMAIL_URL", default="")
    if url:
        parsed = env.email_url_config(url)
        values = {
            "EMAIL_BACKEND": parsed["EMAIL_BACKEND"],
            "EMAIL_HOST": parsed.get("EMAIL_HOST") or "",
            "EMAIL_PORT": parsed.get("EMAIL_PORT") or 25,
            # Percent-decoded by django-environ, so a password may hold any character.
            "EMAIL_HOST_USER": parsed.get("EMAIL_HOST_USER") or "",
            "EMAIL_HOST_PASSWORD": parsed.get("EMAIL_HOST_PASSWORD") or "",
            "EMAIL_USE_TLS": bool(parsed.get("EMAIL_USE_TLS")),
            "EMAIL_USE_SSL": bool(parsed.get("EMAIL_USE_SSL")),
        }
    else:
        host = env("EMAIL_HOST", default="")
        values = {
            "EMAIL_BACKEND": SMTP_BACKEND if host else unconfigured_backend,
            "EMAIL_HOST": host,
            "EMAIL_PORT": env.int("EMAIL_PORT", default=25),
            "EMAIL_HOST_USER": env("EMAIL_HOST_USER", default=""),
            "EMAIL_HOST_PASSWORD": env("EMAIL_HOST_PASSWORD", default=""),
            "EMAIL_USE_TLS": env.bool("EMAIL_USE_TLS", default=False),
            "EMAIL_USE_SSL": env.bool("EMAIL_USE_SSL", default=False),
        }
    # A worker must not hang on a dead mail server: the send fails and is retried instead.
    values["EMAIL_TIMEOUT"] = env.int("EMAIL_TIMEOUT", default=10)
    values["EMAIL_CONFIGURED"] = bool(url or values["EMAIL_HOST"])
    return values
