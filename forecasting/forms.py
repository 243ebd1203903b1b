"""Forms of the forecasting pages."""

from __future__ import annotations

from django import forms

from salesmgmt.forms import MoneyField

from .models import FlagKind


class CallForm(forms.Form):
    commit_amount = MoneyField()
    best_case_amount = MoneyField()
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
