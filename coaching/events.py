"""What the coaching app hears from the core's events (``salesmgmt.webhooks`` listeners).

The core announces "person created" without importing coaching; here a new rep joins the
default programme of their role. Registered in ``CoachingConfig.ready``; runs after commit.
"""

from __future__ import annotations

from salesmgmt.models import User, WebhookEvent


def on_event(event: str, label: str, pk: int, data: dict) -> None:
    if event != WebhookEvent.USER_CREATED:
        return
    from .services import enrolment_for_new_hire

    rep = User.objects.filter(pk=pk).first()
    if rep is not None:
        enrolment_for_new_hire(rep=rep)
