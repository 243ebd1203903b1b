"""Forms of the capture pages: filing an item, the person's capture settings."""

from __future__ import annotations

from django import forms

from salesmgmt.page_actions import id_param


class FileItemForm(forms.Form):
    opportunity = forms.CharField(label="Deal")

    def clean_opportunity(self) -> int:
        pk = id_param(self.cleaned_data["opportunity"])
        if pk is None:
            raise forms.ValidationError("Choose a deal.")
        return pk


class CaptureSettingsForm(forms.Form):
    is_paused = forms.BooleanField(label="Pause capture", required=False)
    excluded_domains = forms.CharField(
        label="Excluded domains",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Mail with nobody but these domains outside the company is never kept.",
    )
