from __future__ import annotations

from decimal import Decimal

from django import forms

from .models import PlannedHire, Scenario


class ScenarioForm(forms.ModelForm):
    class Meta:
        model = Scenario
        fields = ["name", "target", "selling_hours", "coverage_factor", "win_rate", "productivity"]
        labels = {
            "selling_hours": "Selling hours a year (every role)",
            "win_rate": "Win rate (0 to 1)",
            "productivity": "Bookings a year per ramped rep",
        }

    def __init__(self, *args, target: Decimal | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if target is not None:
            self.fields["target"].initial = target


class PlannedHireForm(forms.ModelForm):
    start_month = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = PlannedHire
        fields = ["sales_role", "start_month", "region", "headcount"]
