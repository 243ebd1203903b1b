"""Every row lock of the capture app."""

from __future__ import annotations

from .models import CaptureSettings


def lock_capture_settings(user_id: int) -> CaptureSettings:
    """One person's capture runs one message at a time: a message delivered twice at once
    (two workers) is checked and stored by one, and found by the other."""
    return CaptureSettings.objects.select_for_update().get(user_id=user_id)
