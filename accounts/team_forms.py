"""Forms of a deal's team (parse only; accounts.services decides who may change it)."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms

from salesmgmt.models import User


class TeamMemberEditForm(forms.Form):
    team_role = forms.CharField(
        max_length=40, required=False, label="Role", help_text="e.g. Sales engineer, Partner rep"
    )


class TeamMemberForm(TeamMemberEditForm):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")

    field_order = ["user", "team_role"]

    def __init__(self, *args, people: Iterable[User] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        ids = [person.pk for person in people]
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=ids).order_by("last_name", "first_name", "id")
