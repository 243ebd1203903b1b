"""Celery application and the one beat schedule of the project."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmgmt.settings.local")

app = Celery("salesmgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, one list; each entry says why it runs when it does.
app.conf.beat_schedule = {
    # Milestone definitions can change in the admin; re-derive every open deal's stage nightly
    # so a missed on-commit trigger never leaves a stale stage for more than a day.
    "refresh-open-opportunity-stages-nightly": {
        "task": "accounts.tasks.refresh_all_open_stages",
        "schedule": 24 * 60 * 60,
    },
}
