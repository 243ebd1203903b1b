"""Forms of the territory and quota pages: parsing and field checks only, no domain rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from salesmgmt.models import Period

from .models import CompanyTarget, Quota


class ApplyMovesForm(forms.Form):
    """Confirms a previewed set of moves (the fingerprint ties the apply to the preview)."""

    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
    move_open_opportunities = forms.BooleanField(
        required=False, label="Also move the previous owner's open opportunities"
    )
    include_pinned = forms.BooleanField(required=False, widget=forms.HiddenInput)
    band = forms.DecimalField(
        required=False, min_value=Decimal(1), max_value=Decimal(100), widget=forms.HiddenInput
    )


class BandForm(forms.Form):
    band = forms.DecimalField(
        required=False,
        min_value=Decimal(1),
        max_value=Decimal(100),
        decimal_places=1,
        label="Target band (± % of the mean)",
    )


class QuotaEditForm(forms.Form):
    basis = forms.ChoiceField(choices=Quota.Basis.choices, label="Quota is")
    territory_quota = forms.DecimalField(required=False, max_digits=16, decimal_places=2)
    assignment_share = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=4
    )
    manager_adjustment = forms.DecimalField(required=False, max_digits=16, decimal_places=2)
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        label="Explicit amount",
    )
    reason = forms.CharField(max_length=255, help_text="Saved with the change in the audit log.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("basis") == Quota.Basis.EXPLICIT and data.get("amount") is None:
            self.add_error("amount", "Give the explicit amount.")
        return data

    def changes(self) -> dict[str, object]:
        """The service arguments for the chosen basis."""
        data = self.cleaned_data
        if data["basis"] == Quota.Basis.EXPLICIT:
            return {"amount": data["amount"]}
        if data["basis"] == Quota.Basis.DERIVED:
            return {"basis": Quota.Basis.DERIVED}
        terms = ("territory_quota", "assignment_share", "manager_adjustment")
        changes: dict[str, object] = {k: data[k] for k in terms if data.get(k) is not None}
        changes["basis"] = Quota.Basis.COMPONENTS
        return changes


class AllocationForm(forms.Form):
    period = forms.ModelChoiceField(
        queryset=Period.objects.exclude(kind=Period.Kind.MONTH).order_by("start_on", "-kind")
    )
    amount = forms.DecimalField(
        min_value=Decimal(0), max_digits=16, decimal_places=2, label="Company target"
    )
    method = forms.ChoiceField(choices=CompanyTarget.Method.choices)
    reason = forms.CharField(max_length=200, required=False)
