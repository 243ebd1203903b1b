"""The demo's sales task: two segments whose Plan page shows figures."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demo_data.planning import load_demo_sales_task
from planning import selectors
from planning.models import Scenario, Segment
from salesmgmt.models import Role, User
from tests.fixtures.demo import demo_once

seeded = demo_once(reps=16, opportunities=200)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_seed_demo_defines_two_segments_with_sizing(demo):
    assert set(Segment.objects.values_list("name", flat=True)) == {"Enterprise", "Mid-market"}
    assert Scenario.objects.count() == 1
    view = selectors.plan_view()
    assert all(count > 0 for count in view.account_counts.values())
    ae = view.baseline.by_role.set_index("sales_role").loc["ae"]
    assert ae["people"] > 0
    assert ae["today"] > 0
    assert view.history.win_rate is not None
    assert view.baseline.revenue_reps is not None
    assert not load_demo_sales_task()  # a second seed adds nothing


def test_demo_capacity_plan_has_figures(demo):
    view = selectors.capacity_view()
    assert len(view.hires) == 1
    assert view.months["capacity"].gt(0).all()
    assert view.months["target"].gt(0).all()
    assert view.curve.full >= view.curve.half >= view.curve.first_deal


def test_demo_executive_sees_the_plan(demo, client):
    executive = User.objects.filter(role=Role.EXECUTIVE).order_by("pk").first()
    client.force_login(executive)
    html = client.get(reverse("planning:plan")).content.decode()
    assert "Mid-market" in html
    assert "Target +20 %" in html
