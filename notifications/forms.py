"""Forms of the notification pages: parse only; the services decide."""

from __future__ import annotations

from django import forms

from salesmgmt.models import validate_time_zone

from .kinds import Channel, Kind
from .selectors import Preferences

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class InboxFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All kinds"), *Kind.choices], required=False)
    unread = forms.BooleanField(required=False, label="Unread only")


class PreferencesForm(forms.Form):
    """A channel per kind (field ``kind_<kind>``) and the digest's day, hour and time zone."""

    digest_enabled = forms.BooleanField(required=False, label="Send me the weekly digest")
    digest_weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, label="Digest day")
    digest_hour = forms.TypedChoiceField(
        choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, label="Digest hour"
    )
    digest_time_zone = forms.CharField(
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        label="Time zone",
        help_text="An IANA name such as Europe/Berlin; empty: the company's time zone.",
    )

    def __init__(self, *args, preferences: Preferences, **kwargs) -> None:
        schedule = preferences.schedule
        initial = {
            "digest_enabled": schedule.is_enabled,
            "digest_weekday": schedule.weekday,
            "digest_hour": schedule.hour,
            "digest_time_zone": schedule.time_zone,
            **{f"kind_{c.kind}": c.channel for c in preferences.kinds},
        }
        super().__init__(*args, initial=initial, **kwargs)
        for choice in preferences.kinds:
            self.fields[f"kind_{choice.kind}"] = forms.ChoiceField(
                choices=Channel.choices, label=choice.label
            )

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("kind_")]

    def channels(self) -> dict[str, str]:
        data = self.cleaned_data
        return {name.removeprefix("kind_"): data[name] for name in data if name.startswith("kind_")}

    def digest(self) -> dict[str, object]:
        data = self.cleaned_data
        return {
            "is_enabled": data["digest_enabled"],
            "weekday": data["digest_weekday"],
            "hour": data["digest_hour"],
            "time_zone": data["digest_time_zone"].strip(),
        }
