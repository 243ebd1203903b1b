"""``manage.py mail_gateway``: the SMTP server that receives mail for capture addresses."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from capture.gateway import gateway_controller


class Command(BaseCommand):
    help = (
        "Run the capture mail gateway (SMTP) on MAIL_GATEWAY_HOST:MAIL_GATEWAY_PORT; it accepts "
        "mail for capture addresses only and queues each message for the worker."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.MAIL_GATEWAY_HOST)
        parser.add_argument("--port", type=int, default=settings.MAIL_GATEWAY_PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        controller = gateway_controller(host, port)
        controller.start()
        self.stdout.write(f"Mail gateway listening on {host}:{port} for @{settings.CAPTURE_DOMAIN}")
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("Mail gateway stopped")
