"""Forms of the territory and quota pages: parsing and field checks only, no domain rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import QuerySet

from salesmgmt.forms import MAX_ID, MAX_INTEGER, MoneyField
from salesmgmt.models import Period, User

from .models import AssignmentRule, CompanyTarget, Quota, Territory, TerritoryOverlay
from .services.territories import SELLING_ROLES


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


class ApplyProposalForm(forms.Form):
    """Confirms a stored rebalancing proposal: its id and the fingerprint of its moves."""

    proposal = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
    move_open_opportunities = forms.BooleanField(
        required=False, label="Also move the previous owner's open opportunities"
    )


class RecomputeForm(forms.Form):
    """Recompute now, optionally for another band (± % of the mean)."""

    band = forms.DecimalField(
        required=False,
        min_value=Decimal(1),
        max_value=Decimal(100),
        decimal_places=1,
        label="Band (± % of the mean)",
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
    territory_quota = MoneyField(required=False)
    assignment_share = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=4
    )
    manager_adjustment = MoneyField(required=False, signed=True)
    amount = MoneyField(required=False, label="Explicit amount")
    reason = forms.CharField(max_length=255, help_text="Saved with the change in the audit log.")
    version = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_INTEGER, widget=forms.HiddenInput
    )

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
    amount = MoneyField(label="Company target")
    method = forms.ChoiceField(choices=CompanyTarget.Method.choices)
    reason = forms.CharField(max_length=200, required=False)


def _seller_choices() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role__in=SELLING_ROLES, is_org_unit=False).order_by(
        "last_name", "first_name", "id"
    )


class TerritoryForm(forms.Form):
    """A territory's fields, owner and overlays; the services check the hierarchy and owner."""

    name = forms.CharField(max_length=120)
    level = forms.ChoiceField(choices=Territory.Level.choices)
    parent = forms.ModelChoiceField(
        queryset=Territory.objects.exclude(level=Territory.Level.TERRITORY).order_by("name"),
        required=False,
        help_text="Regions hold districts; districts hold territories.",
    )
    owner = forms.ModelChoiceField(
        queryset=_seller_choices(),
        help_text="A new owner takes the territory's accounts from today; history keeps both.",
    )
    effective_from = forms.DateField(required=False, label="In effect from")
    effective_to = forms.DateField(required=False, label="In effect until (exclusive)")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    add_overlay = forms.ModelChoiceField(
        queryset=_seller_choices(), required=False, label="Add an overlay seller"
    )
    overlay_role = forms.CharField(max_length=40, required=False, label="Overlay role")
    end_overlays = forms.ModelMultipleChoiceField(
        queryset=TerritoryOverlay.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="End these overlays today",
    )

    def __init__(self, *args, territory: Territory | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if territory is None:
            del self.fields["end_overlays"]
            del self.fields["effective_to"]
        else:
            self.fields["end_overlays"].queryset = territory.overlays.filter(
                effective_to__isnull=True
            ).select_related("user")
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(pk=territory.pk)


class RuleForm(forms.Form):
    """An assignment rule; lists are comma-separated, named accounts given by id."""

    name = forms.CharField(max_length=120)
    territory = forms.ModelChoiceField(
        queryset=Territory.objects.filter(level=Territory.Level.TERRITORY).order_by("name")
    )
    priority = forms.IntegerField(
        min_value=0,
        max_value=MAX_INTEGER,
        initial=100,
        help_text="Lower numbers are evaluated first and win.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    countries = forms.CharField(required=False, help_text="Comma-separated; any one matches.")
    regions = forms.CharField(required=False)
    states = forms.CharField(required=False)
    industries = forms.CharField(required=False)
    employee_count_min = forms.IntegerField(required=False, min_value=0, max_value=MAX_INTEGER)
    employee_count_max = forms.IntegerField(required=False, min_value=0, max_value=MAX_INTEGER)
    annual_revenue_min = MoneyField(required=False)
    annual_revenue_max = MoneyField(required=False)
    named_account_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Named accounts (ids)",
        help_text="Comma-separated account ids; the rule then matches only these accounts.",
    )

    LIST_FIELDS = ("countries", "regions", "states", "industries")

    def clean_named_account_ids(self) -> list[int]:
        parts = [p.strip() for p in self.cleaned_data["named_account_ids"].split(",")]
        parts = [p for p in parts if p]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError("Give account ids as numbers separated by commas.")
        return sorted({int(p) for p in parts})

    @classmethod
    def initial_for(cls, rule: AssignmentRule, named_ids: list[int]) -> dict[str, object]:
        initial: dict[str, object] = {
            name: getattr(rule, name)
            for name in cls.base_fields
            if name not in cls.LIST_FIELDS and name != "named_account_ids"
        }
        initial.update({name: ", ".join(getattr(rule, name)) for name in cls.LIST_FIELDS})
        initial["territory"] = rule.territory_id
        initial["named_account_ids"] = ", ".join(str(pk) for pk in named_ids)
        return initial
