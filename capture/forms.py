"""Forms of the capture pages: filing an item, the person's capture settings."""

from __future__ import annotations

from django import forms
from django.conf import settings

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


class CalendarSubscribeForm(forms.Form):
    url = forms.URLField(label="Calendar ICS URL", max_length=2000, assume_scheme="https")
    name = forms.CharField(label="Name", max_length=120, required=False)


class CalendarUploadForm(forms.Form):
    file = forms.FileField(label="Calendar file (.ics)")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CAPTURE_CALENDAR_MAX_BYTES:
            raise forms.ValidationError("The file is too large.")
        return upload
