"""Writes of the capture app (re-exported: ``from capture import services``)."""

from .calendar import (
    CalendarReadResult,
    calendar_read,
    calendar_subscription_add,
    calendar_subscription_fetch,
    calendar_subscription_remove,
    calendar_upload,
)
from .items import captured_item_delete, captured_item_file
from .mail import captured_mail_receive, captured_mail_record
from .privacy import (
    capture_settings_ensure,
    capture_settings_update,
    capture_token_rotate,
    clean_domains,
)
from .retention import captured_items_purge, captured_items_purge_batch

__all__ = [
    "CalendarReadResult",
    "calendar_read",
    "calendar_subscription_add",
    "calendar_subscription_fetch",
    "calendar_subscription_remove",
    "calendar_upload",
    "capture_settings_ensure",
    "capture_settings_update",
    "capture_token_rotate",
    "captured_item_delete",
    "captured_item_file",
    "captured_items_purge",
    "captured_items_purge_batch",
    "captured_mail_receive",
    "captured_mail_record",
    "clean_domains",
]
