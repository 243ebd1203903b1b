"""The upload form of the CSV import page."""

from __future__ import annotations

from django import forms
from django.conf import settings

from salesmgmt.models import ImportKind


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label="The file contains")
    file = forms.FileField(label="CSV file (UTF-8)")
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: check every row, import nothing"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.IMPORT_MAX_BYTES // 2**20} MB."
            )
        return upload
