"""Forms of the forecasting pages."""

from __future__ import annotations

from django import forms

from .models import FlagKind


class CallForm(forms.Form):
    commit_amount = forms.DecimalField(min_value=0, max_digits=16, decimal_places=2)
    best_case_amount = forms.DecimalField(min_value=0, max_digits=16, decimal_places=2)
    note = forms.CharField(max_length=500, required=False)


class AdjustForm(CallForm):
    note = forms.CharField(max_length=500, help_text="Why you adjust this call.")


class WaterfallForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must come before the end date.")
        return data


class FlagFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All flags"), *FlagKind.choices], required=False)
