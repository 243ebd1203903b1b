"""Forms of the sales-process setup pages (parse only; accounts.services decides)."""

from __future__ import annotations

from django import forms

from .models import ForecastCategory


class ProcessForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    requires_verification = forms.BooleanField(
        required=False, help_text="A completed milestone counts only once a manager verified it."
    )
    is_default = forms.BooleanField(required=False, help_text="New deals and imports use it.")


class StageForm(forms.Form):
    name = forms.CharField(max_length=80)
    default_forecast_category = forms.ChoiceField(
        choices=ForecastCategory.choices, initial=ForecastCategory.PIPELINE
    )


class MilestoneForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False)
    evidence_required = forms.BooleanField(required=False)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


def moved(ids: list[int], pk: int, direction: str) -> list[int]:
    """``ids`` with ``pk`` swapped with its neighbour above or below (unchanged at an end)."""
    index = ids.index(pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    return ids
