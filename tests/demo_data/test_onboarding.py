"""The demo's onboarding programme: the default for new reps, recent hires enrolled, and the
manager login sees a new hire's progress."""

from __future__ import annotations

import pytest
from django.urls import reverse

from coaching.models import Enrolment, Programme
from demo_data.onboarding import DEMO_PROGRAMME, load_demo_programme
from salesmgmt.models import User
from tests.fixtures.demo import demo_once

seeded = demo_once(reps=16, opportunities=200)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_seed_demo_defines_the_default_programme_with_enrolments(demo):
    programme = Programme.objects.get(name=DEMO_PROGRAMME)
    assert programme.is_default
    assert list(programme.steps.values_list("kind", flat=True)) == [
        "module", "module", "certification", "practice",
    ]  # fmt: skip
    enrolments = Enrolment.objects.filter(programme=programme)
    assert enrolments.exists()
    assert enrolments.filter(rep__manager__username="manager").exists()
    assert not load_demo_programme()  # a second seed adds nothing


def test_demo_manager_sees_new_hire_progress_and_cohorts(demo, client):
    client.force_login(User.objects.get(username="manager"))
    html = client.get(reverse("coaching:onboarding")).content.decode()
    assert "1 / 4" in html
    assert "Cohorts by hire quarter" in html
    assert DEMO_PROGRAMME in html
