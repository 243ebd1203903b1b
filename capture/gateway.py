"""The SMTP side of capture: an aiosmtpd handler that takes mail for capture addresses only.

The SMTP session does as little as it can: a lookup per recipient (550 for any address that
is not an active capture address) and, at DATA, one task on the queue with the raw bytes.
Parsing, matching and writing happen in the worker (``capture.tasks.capture_mail``).
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from salesmgmt.task_queue import BROKER_ERRORS

from . import selectors
from .tasks import capture_mail

logger = logging.getLogger(__name__)


def _is_capture_address(address: str) -> bool:
    # One short-lived connection per lookup: the gateway idles for long stretches (a kept
    # connection would go stale) and mail arrives at a rate a connect per recipient affords.
    try:
        return selectors.capture_owner_id(address) is not None
    finally:
        connection.close()


class CaptureHandler:
    """aiosmtpd hooks: RCPT is checked, DATA is queued (on ``queue``, else the default)."""

    def __init__(self, queue: str | None = None) -> None:
        self.queue = queue

    def _enqueue(self, raw: bytes, recipients: list[str]) -> None:
        args = [base64.b64encode(raw).decode("ascii"), recipients]
        options = {"queue": self.queue} if self.queue else {}
        capture_mail.apply_async(args=args, **options)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if not await sync_to_async(_is_capture_address)(address):
            return "550 5.1.1 No such capture address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            await sync_to_async(self._enqueue)(raw, list(envelope.rcpt_tos))
        except BROKER_ERRORS:
            # The sending MTA keeps the message and tries again later.
            logger.exception("capture: queue unavailable, deferring a message")
            return "451 4.3.0 Queue unavailable, try again later"
        return "250 Message accepted for capture"


def gateway_controller(
    host: str | None = None, port: int | None = None, *, queue: str | None = None
) -> Controller:
    """A (not yet started) SMTP server on the configured address and port."""
    return Controller(
        CaptureHandler(queue),
        hostname=host or settings.MAIL_GATEWAY_HOST,
        port=port or settings.MAIL_GATEWAY_PORT,
        data_size_limit=settings.MAIL_GATEWAY_MAX_BYTES,
    )
