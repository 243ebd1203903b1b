from __future__ import annotations

from decimal import Decimal

from django import forms

from accounts.models import Product
from salesmgmt.forms import MoneyField
from salesmgmt.models import Role, User
from territories.models import Territory

from .models import Coverage, PlannedHire, RoleCapacity, Scenario, Segment


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
        # The page holds four forms: ids apart so each label names its own field.
        kwargs.setdefault("auto_id", "scenario-%s")
        super().__init__(*args, **kwargs)
        if target is not None:
            self.fields["target"].initial = target


class PlannedHireForm(forms.ModelForm):
    start_month = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "hire-%s")
        super().__init__(*args, **kwargs)

    class Meta:
        model = PlannedHire
        fields = ["sales_role", "start_month", "region", "headcount"]


class SegmentForm(forms.Form):
    """A segment's rules; list criteria typed comma-separated (any entry matches)."""

    name = forms.CharField(max_length=120)
    priority = forms.IntegerField(min_value=0, initial=100, help_text="Lower wins an overlap.")
    industries = forms.CharField(required=False, help_text="Comma-separated.")
    countries = forms.CharField(required=False, help_text="Comma-separated.")
    regions = forms.CharField(required=False, help_text="Comma-separated.")
    employee_count_min = forms.IntegerField(min_value=0, required=False)
    employee_count_max = forms.IntegerField(min_value=0, required=False)
    products = forms.ModelMultipleChoiceField(queryset=Product.objects.none(), required=False)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "segment-%s")
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.filter(is_active=True)

    @classmethod
    def of(cls, segment: Segment) -> SegmentForm:
        """The form filled with ``segment``'s rules (for its edit page)."""
        initial = {
            name: getattr(segment, name)
            for name in ("name", "priority", "employee_count_min", "employee_count_max")
        }
        for name in ("industries", "countries", "regions"):
            initial[name] = ", ".join(getattr(segment, name))
        initial["products"] = list(segment.products.all())
        return cls(initial=initial)

    def _listed(self, name: str) -> list[str]:
        return [part.strip() for part in self.cleaned_data[name].split(",") if part.strip()]

    def clean_industries(self) -> list[str]:
        return self._listed("industries")

    def clean_countries(self) -> list[str]:
        return self._listed("countries")

    def clean_regions(self) -> list[str]:
        return self._listed("regions")


class CoverageForm(forms.ModelForm):
    segment = forms.ModelChoiceField(queryset=Segment.objects.all())

    class Meta:
        model = Coverage
        fields = [
            "segment", "sales_role", "activities_per_account", "hours_per_activity", "win_rate",
            "deal_size", "cycle_days",
        ]  # fmt: skip
        labels = {"win_rate": "Win rate (0 to 1; empty: history)"}

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "coverage-%s")
        super().__init__(*args, **kwargs)

    def _post_clean(self) -> None:
        """No model checks here: the service validates the row it writes, replacing the
        segment's row for the role (a second one is no uniqueness error)."""


class RoleCapacityForm(forms.ModelForm):
    """One sales role's capacity (the role is fixed by the row the form edits)."""

    sales_role = forms.CharField(widget=forms.HiddenInput)

    class Meta:
        model = RoleCapacity
        fields = ["sales_role", "selling_hours", "hours_per_activity", "annual_attrition"]
        labels = {
            "selling_hours": "Selling hours a year",
            "hours_per_activity": "Hours per call or meeting",
            "annual_attrition": "Attrition a year (0 to 1)",
        }

    def __init__(self, *args, **kwargs) -> None:
        role = kwargs.pop("role", None) or (kwargs.get("data") or {}).get("sales_role", "x")
        kwargs.setdefault("auto_id", f"role-{role}-%s")
        super().__init__(*args, **kwargs)

    def _post_clean(self) -> None:
        """The service validates and replaces the role's row (no uniqueness error here)."""


class MarkHiredForm(forms.Form):
    """The person who fills a planned seat, the territory they take and their ramped quota."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    hired_on = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    territory = forms.ModelChoiceField(
        queryset=Territory.objects.none(), required=False,
        help_text="The territory they take over (optional).",
    )  # fmt: skip
    ramped_quota = MoneyField(
        min_value=1, required=False,
        label="Ramped quota a year",
        help_text="Empty: history's bookings per ramped rep. The learned ramp scales it.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", "hired-%s")
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(
            is_active=True, role=Role.MANAGER, is_org_unit=False
        ).order_by("last_name", "first_name", "id")
        self.fields["territory"].queryset = Territory.objects.leaves().order_by("name", "id")
