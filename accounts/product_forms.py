"""Forms of the product catalogue and of a deal's line items (parse only; services decide)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from salesmgmt.forms import PAGE_FORM_RENDERER

from .models import Product


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120)
    family = forms.CharField(max_length=80, required=False, help_text="e.g. GTX, MG")
    list_price = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal(0))
    currency = forms.CharField(
        max_length=3, required=False, help_text="ISO code; empty: the reporting currency."
    )
    external_id = forms.CharField(max_length=64, required=False)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name")
    family = forms.CharField(required=False)
    active = forms.ChoiceField(
        choices=[("", "All"), ("1", "Active"), ("0", "Archived")], required=False
    )


class LineItemEditForm(forms.Form):
    """A line item's figures (to change its product, remove it and add another)."""

    default_renderer = PAGE_FORM_RENDERER  # shown on the deal page

    quantity = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), initial=Decimal(1)
    )
    unit_price = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        help_text="Empty: the product's list price.",
    )
    discount_percent = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        initial=Decimal(0),
        label="Discount %",
    )


class LineItemForm(LineItemEditForm):
    product = forms.ModelChoiceField(queryset=Product.objects.none())

    field_order = ["product", "quantity", "unit_price", "discount_percent"]

    def __init__(self, *args, products=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (  # type: ignore[attr-defined]
            products if products is not None else Product.objects.none()
        )
