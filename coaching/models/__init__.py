"""Models of the coaching app: account reviews (``reviews``) and coaching records (``coaching``).

Account reviews follow the seed best practice "standardized account reviews based on auditable
milestones".
"""

from .coaching import (
    MANAGER_KINDS,
    CallDebrief,
    DevelopmentAction,
    DevelopmentGoal,
    DevelopmentPlan,
    ManagerCapacity,
    ResourceKind,
    ResourcePolicy,
    ResourceRequest,
    SkillRating,
    SkillTag,
)
from .compliance import ComplianceSummary
from .onboarding import Enrolment, Programme, ProgrammeStep, StepCompletion
from .reviews import (
    MAX_RATING,
    AccountReview,
    ActionItem,
    CompetitorPosition,
    EvidenceState,
    NegotiationItem,
    OpportunityScore,
    ProofResource,
    ReviewNotesRevision,
    ScorecardCriterion,
    ScorecardTemplate,
)

__all__ = [
    "MANAGER_KINDS",
    "MAX_RATING",
    "AccountReview",
    "ActionItem",
    "CallDebrief",
    "CompetitorPosition",
    "ComplianceSummary",
    "DevelopmentAction",
    "DevelopmentGoal",
    "DevelopmentPlan",
    "Enrolment",
    "EvidenceState",
    "ManagerCapacity",
    "NegotiationItem",
    "OpportunityScore",
    "Programme",
    "ProgrammeStep",
    "ProofResource",
    "ResourceKind",
    "ResourcePolicy",
    "ResourceRequest",
    "ReviewNotesRevision",
    "ScorecardCriterion",
    "ScorecardTemplate",
    "SkillRating",
    "SkillTag",
    "StepCompletion",
]
