"""What a notification is about (its kind), how it may reach a person (channel), and the
default channel of each kind: mail for what needs action today, the inbox for the rest."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    MILESTONE_PENDING = "milestone_pending", "Milestone waiting for your verification"
    MILESTONE_REVIEWED = "milestone_reviewed", "Your milestone verified or rejected"
    CALL_DUE = "call_due", "Forecast call due"
    CALL_OVERDUE = "call_overdue", "Forecast call overdue"
    CALLS_MISSING = "calls_missing", "Team calls not submitted"
    CALL_ADJUSTED = "call_adjusted", "Your call adjusted by a manager"
    DEAL_FLAGGED = "deal_flagged", "Deal flagged for inspection"
    QUOTA_CHANGED = "quota_changed", "Quota set or changed"
    STATEMENT_READY = "statement_ready", "Statement ready"
    STATEMENT_APPROVED = "statement_approved", "Statement approved"
    DISPUTE_RAISED = "dispute_raised", "Dispute raised"
    DISPUTE_RESOLVED = "dispute_resolved", "Dispute resolved"
    REQUEST_RAISED = "request_raised", "Resource request waiting for a decision"
    REQUEST_DECIDED = "request_decided", "Resource request decided"
    ACTION_ASSIGNED = "action_assigned", "Action item assigned"
    ACTION_OVERDUE = "action_overdue", "Action item overdue"
    GOAL_DUE = "goal_due", "Development goal due"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app only"
    IMMEDIATE = "immediate", "In the app and by e-mail at once"
    DIGEST = "digest", "In the app and in the weekly digest"
    OFF = "off", "Off"


# Mail at once for what someone must act on today; the digest for what can wait a week.
DEFAULT_CHANNELS: dict[str, str] = {
    Kind.MILESTONE_PENDING: Channel.IMMEDIATE,
    Kind.MILESTONE_REVIEWED: Channel.IN_APP,
    Kind.CALL_DUE: Channel.IMMEDIATE,
    Kind.CALL_OVERDUE: Channel.IMMEDIATE,
    Kind.CALLS_MISSING: Channel.IMMEDIATE,
    Kind.CALL_ADJUSTED: Channel.IN_APP,
    Kind.DEAL_FLAGGED: Channel.DIGEST,
    Kind.QUOTA_CHANGED: Channel.IN_APP,
    Kind.STATEMENT_READY: Channel.IMMEDIATE,
    Kind.STATEMENT_APPROVED: Channel.IN_APP,
    Kind.DISPUTE_RAISED: Channel.IMMEDIATE,
    Kind.DISPUTE_RESOLVED: Channel.IN_APP,
    Kind.REQUEST_RAISED: Channel.IMMEDIATE,
    Kind.REQUEST_DECIDED: Channel.IN_APP,
    Kind.ACTION_ASSIGNED: Channel.IN_APP,
    Kind.ACTION_OVERDUE: Channel.IMMEDIATE,
    Kind.GOAL_DUE: Channel.DIGEST,
}
