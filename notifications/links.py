"""Absolute addresses for mails: SITE_URL (or NOTIFICATIONS_DEFAULT_SITE_URL) plus a path."""

from __future__ import annotations

from django.conf import settings


def site_url() -> str:
    return (settings.SITE_URL or settings.NOTIFICATIONS_DEFAULT_SITE_URL).rstrip("/")


def absolute(path: str) -> str:
    return site_url() + path if path.startswith("/") else path
