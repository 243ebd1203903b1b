"""Page forms of the compensation app: they parse input; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from salesmgmt.forms import MoneyField
from salesmgmt.models import Period

WHATIF_ROWS = 5


class PeriodForm(forms.Form):
    period = forms.ModelChoiceField(
        queryset=Period.objects.order_by("-start_on", "kind"),
        required=False,
        empty_label="Latest",
    )


class DisputeForm(forms.Form):
    text = forms.CharField(
        label="What is wrong with this line?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label="Resolution", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AdjustmentForm(forms.Form):
    amount = MoneyField(signed=True)
    reason = forms.CharField(max_length=500)


class WhatIfForm(forms.Form):
    """A period and up to five deals the rep might close (amounts in the reporting currency)."""

    period = forms.ModelChoiceField(queryset=Period.objects.order_by("-start_on", "kind"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for i in range(WHATIF_ROWS):
            self.fields[f"name_{i}"] = forms.CharField(
                max_length=120,
                required=False,
                label=f"Deal {i + 1}",
                widget=forms.TextInput(attrs={"aria-label": f"Deal {i + 1} name"}),
            )
            self.fields[f"amount_{i}"] = MoneyField(
                min_value=Decimal("0.01"),
                required=False,
                label="Amount",
                widget=forms.NumberInput(attrs={"aria-label": f"Deal {i + 1} amount"}),
            )
            self.fields[f"closed_on_{i}"] = forms.DateField(
                required=False,
                label="Close date",
                widget=forms.DateInput(
                    attrs={"type": "date", "aria-label": f"Deal {i + 1} close date"}
                ),
            )
            self.fields[f"new_logo_{i}"] = forms.BooleanField(
                required=False,
                label="New logo",
                widget=forms.CheckboxInput(attrs={"aria-label": f"Deal {i + 1} is a new logo"}),
            )

    @property
    def rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"{name}_{i}"] for name in ("name", "amount", "closed_on", "new_logo")]
            for i in range(WHATIF_ROWS)
        ]

    def clean(self) -> dict:
        data = super().clean()
        period = data.get("period")
        for i in range(WHATIF_ROWS):
            amount, closed_on = data.get(f"amount_{i}"), data.get(f"closed_on_{i}")
            if amount is None and closed_on is None:
                continue
            if amount is None:
                self.add_error(f"amount_{i}", "Give the amount.")
            if closed_on is None and period is not None:
                data[f"closed_on_{i}"] = period.end_on
            elif period is not None and not period.contains(closed_on):
                self.add_error(f"closed_on_{i}", f"Pick a day in {period}.")
        return data

    def deals(self) -> list[tuple[str, Decimal, object, bool]]:
        data = self.cleaned_data
        return [
            (data[f"name_{i}"], data[f"amount_{i}"], data[f"closed_on_{i}"], data[f"new_logo_{i}"])
            for i in range(WHATIF_ROWS)
            if data.get(f"amount_{i}") is not None
        ]


SPLIT_ROWS = 5


class CreditSplitForm(forms.Form):
    """Up to five people and their share of a deal's credit (the service checks the sum).

    ``people`` is evaluated once for the five drop-downs (one query, not five).
    """

    def __init__(self, *args, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        choices = [("", "—"), *((pk, str(person)) for pk, person in self.people.items())]
        for i in range(SPLIT_ROWS):
            self.fields[f"user_{i}"] = forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                label=f"Person {i + 1}",
            )
            self.fields[f"percent_{i}"] = forms.DecimalField(
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0.01"),
                max_value=Decimal(100),
                required=False,
                label="Share (%)",
            )

    @property
    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"user_{i}"], self[f"percent_{i}"]] for i in range(SPLIT_ROWS)]

    def clean(self) -> dict:
        data = super().clean()
        for i in range(SPLIT_ROWS):
            user, percent = data.get(f"user_{i}"), data.get(f"percent_{i}")
            if (user is None) != (percent is None) and f"percent_{i}" not in self.errors:
                self.add_error(f"percent_{i}", "Give both the person and their share.")
        return data

    def splits(self) -> list[tuple]:
        data = self.cleaned_data
        return [
            (self.people[data[f"user_{i}"]], data[f"percent_{i}"])
            for i in range(SPLIT_ROWS)
            if data.get(f"user_{i}") is not None
        ]


class CancellationForm(forms.Form):
    cancelled_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=255)
