"""The record of background tasks that failed for good (FailedTask), from Celery's signal.

Celery sends ``task_failure`` once per task run that ends in an exception: a permanent error,
or a retryable one after ``max_retries`` (every task of the project has a bound). A scheduled
retry sends ``task_retry`` instead, so each row is one task that gave up.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

logger = logging.getLogger(__name__)


def _json_safe(value: Any) -> Any:
    """Task arguments as JSON; anything the encoder refuses is kept as its repr."""
    try:
        DjangoJSONEncoder().encode(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def record_task_failure(
    sender: Any = None,
    task_id: str | None = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    einfo: Any = None,
    **extra: Any,
) -> None:
    """Receiver of celery.signals.task_failure (connected in SalesmgmtConfig.ready)."""
    from .models import FailedTask

    request = getattr(sender, "request", None)
    retries = getattr(request, "retries", 0) or 0
    text = str(einfo) if einfo is not None else ""
    if not text and exception is not None:
        text = "".join(traceback.format_exception_only(type(exception), exception))
    try:
        FailedTask.objects.create(
            task_name=getattr(sender, "name", "") or "",
            task_id=task_id or "",
            args=_json_safe(list(args or [])),
            kwargs=_json_safe(dict(kwargs or {})),
            exception=text or repr(exception),
            attempts=retries + 1,
        )
    except Exception:
        # The failure may be the database itself; the worker log keeps the record then.
        logger.exception("Could not record the failure of task %s [%s]", sender, task_id)
