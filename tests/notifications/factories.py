"""Notifications made directly (the events' tests make them through the services)."""

from __future__ import annotations

import factory

from notifications.kinds import Kind
from notifications.models import Notification
from tests.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = Kind.MILESTONE_PENDING
    title = factory.Sequence(lambda n: f"Something needs you #{n}")
    body = "Details"
    link = "/opportunities/1/"
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
