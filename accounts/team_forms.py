"""Forms of a deal's team (parse only; accounts.services decides who may change it)."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from salesmgmt.forms import PAGE_FORM_RENDERER
from salesmgmt.models import User


class TeamMemberEditForm(forms.Form):
    default_renderer = PAGE_FORM_RENDERER  # shown on the deal page
    team_role = forms.CharField(
        max_length=40, required=False, label="Role", help_text="e.g. Sales engineer, Partner rep"
    )


class TeamMemberForm(TeamMemberEditForm):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")

    field_order = ["user", "team_role"]

    def __init__(self, *args, people: QuerySet[User] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form renders or validates: one query either way.
        self.fields["user"].queryset = (  # type: ignore[attr-defined]
            people if people is not None else User.objects.none()
        )
