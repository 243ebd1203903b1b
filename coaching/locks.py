"""Every row lock of the coaching app (one module, as STYLE.md asks)."""

from __future__ import annotations

from .models import OpportunityScore, ResourceRequest


def lock_score(*, opportunity_id: int, criterion_id: int) -> OpportunityScore | None:
    return (
        OpportunityScore.objects.select_for_update(of=("self",))
        .select_related("opportunity__owner")
        .filter(opportunity_id=opportunity_id, criterion_id=criterion_id)
        .first()
    )


def lock_request(pk: int) -> ResourceRequest:
    return (
        ResourceRequest.objects.select_for_update(of=("self",))
        .select_related("opportunity__owner", "opportunity__stage", "requested_by")
        .get(pk=pk)
    )
