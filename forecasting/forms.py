"""Forms of the forecasting pages."""

from __future__ import annotations

import datetime as dt

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


class WeekForm(forms.Form):
    """The forecast page's past week (GET ``?week=YYYY-MM-DD``, any day of that week)."""

    week = forms.DateField(
        label="Week of",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a day of the week as YYYY-MM-DD, e.g. 2024-03-04."},
    )

    def __init__(self, *args, today: dt.date, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["week"].widget.attrs["max"] = today.isoformat()

    def clean_week(self) -> dt.date:
        day = self.cleaned_data["week"]
        if day > self.today:
            raise forms.ValidationError("Choose a past week: snapshots are taken as weeks go by.")
        return day


class FlagFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All flags"), *FlagKind.choices], required=False)
