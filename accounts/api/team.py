"""A deal's team in the API: ``/api/v1/opportunities/{deal_id}/team/``.

Anyone who sees the deal lists its team; adding, changing (the role) and removing members is
for whoever may reassign the deal (``accounts.services.may_change_team``: the owner's
managers, executives, admins, integrators), like on the deal page. A member's credit share is
the deal's credit split, ``/api/v1/compensation/deals/{id}/splits/`` (one home for credit).
"""

from __future__ import annotations

from django.db.models import Model
from rest_framework import serializers

from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from .. import selectors, services
from ..models import OpportunityTeamMember
from .nested import DealNestedViewSet, deal_nested_schema


def _people(user: User):
    return visible_users(user)


class TeamMemberSerializer(serializers.ModelSerializer):
    """A person working the deal with its owner, and their role on it (e.g. "SE overlay")."""

    user = VisibleRelatedField(queryset=User.objects.all(), visible=_people)
    team_role = serializers.CharField(max_length=40, required=False, allow_blank=True)

    class Meta:
        model = OpportunityTeamMember
        fields = ["id", "user", "team_role", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_user(self, user: User) -> User:
        member = self.instance
        if isinstance(member, OpportunityTeamMember) and user.pk != member.user_id:
            raise serializers.ValidationError(
                "A member's person cannot change: remove them and add the other person."
            )
        return user


@deal_nested_schema
class TeamMemberViewSet(DealNestedViewSet):
    """A deal's team: the deal must be one you can see (else 404); adding, changing and
    removing members is for those who may reassign the deal (else 403)."""

    queryset = OpportunityTeamMember.objects.none()
    serializer_class = TeamMemberSerializer

    def rows_of(self, deal):
        return selectors.team_member_list(opportunity=deal)

    def perform_create(self, data: dict) -> Model:
        return services.opportunity_team_member_add(
            actor=self.request.user, opportunity=self.deal(), **data
        )

    def perform_update(self, instance, data, expected_version):
        role = data.get("team_role", instance.team_role)
        return services.opportunity_team_member_update(
            actor=self.request.user, member=instance, team_role=role
        )

    def remove(self, instance) -> None:
        """Take the member off the deal's team."""
        services.opportunity_team_member_remove(actor=self.request.user, member=instance)
