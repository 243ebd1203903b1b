"""Every row lock of the coaching app (one module, as STYLE.md asks)."""

from __future__ import annotations

from salesmgmt.models import User

from .models import (
    AccountReview,
    ComplianceSummary,
    OpportunityScore,
    Programme,
    ResourceRequest,
)


def lock_score(*, opportunity_id: int, criterion_id: int) -> OpportunityScore | None:
    return (
        OpportunityScore.objects.select_for_update(of=("self",))
        .select_related("opportunity__owner")
        .filter(opportunity_id=opportunity_id, criterion_id=criterion_id)
        .first()
    )


def lock_review(pk: int) -> AccountReview:
    return (
        AccountReview.objects.select_for_update(of=("self",))
        .select_related("account__owner")
        .get(pk=pk)
    )


def lock_request(pk: int) -> ResourceRequest:
    return (
        ResourceRequest.objects.select_for_update(of=("self",))
        .select_related("opportunity__owner", "opportunity__stage", "requested_by")
        .get(pk=pk)
    )


def lock_compliance_summaries(*, user_ids: list[int]) -> list[int]:
    """Lock the compliance summaries of ``user_ids`` in pk order; returns their pks."""
    return list(
        ComplianceSummary.objects.select_for_update()
        .filter(user_id__in=user_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_manager_time(manager_id: int) -> None:
    """Serialise the bookings of one manager's weeks (coaching.capacity): two approvals of
    their joint calls at once cannot both take the last free hours. Taken after the request's
    own lock, so every decision locks in the same order."""
    list(User.objects.select_for_update(of=("self",)).filter(pk=manager_id).values_list("pk"))


def lock_programme(pk: int) -> Programme:
    """The programme's row orders two steps added at once (each takes the next order)."""
    return Programme.objects.select_for_update().get(pk=pk)
