"""Absolute addresses for mails: SITE_URL (make run's address when unset) plus a path."""

from __future__ import annotations

from django.conf import settings

from .digest import DEFAULT_SITE_URL


def site_url() -> str:
    return (settings.SITE_URL or DEFAULT_SITE_URL).rstrip("/")


def absolute(path: str) -> str:
    return site_url() + path if path.startswith("/") else path
