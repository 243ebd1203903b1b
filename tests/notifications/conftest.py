"""Fixtures of the notification tests: a deal of rep_a in a process that requires
verification, and a helper that completes its evidence milestone."""

from __future__ import annotations

import pytest

from accounts import services as deal_services
from accounts.models import MilestoneCompletion
from tests.coaching.factories import current_quarter
from tests.factories import OpportunityFactory, build_process


@pytest.fixture
def verified_process(db):
    return build_process(name="Verified", requires_verification=True)


@pytest.fixture
def deal(verified_process, rep_a):
    return OpportunityFactory(owner=rep_a, process=verified_process, name="Acme renewal")


@pytest.fixture
def complete_evidence(deal, django_capture_on_commit_callbacks):
    """Complete the first milestone that needs evidence, as the deal's owner (commits run)."""

    def complete(actor=None) -> MilestoneCompletion:
        milestone = (
            deal.process.stages.order_by("order").first().milestones.get(evidence_required=True)
        )
        with django_capture_on_commit_callbacks(execute=True):
            return deal_services.milestone_complete(
                actor=actor or deal.owner,
                opportunity=deal,
                milestone=milestone,
                evidence="https://example.com/notes",
            )

    return complete


@pytest.fixture
def quarter(db):
    """The current quarter (its year's periods created)."""
    return current_quarter()
