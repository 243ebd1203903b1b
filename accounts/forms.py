"""Forms that parse and validate page input; every write goes through accounts.services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django import forms
from django.core.exceptions import ValidationError

from salesmgmt.forms import MAX_INTEGER, PAGE_FORM_RENDERER, MoneyField
from salesmgmt.models import User

from .models import Account, Activity, ForecastCategory, Milestone, Opportunity
from .selectors.search import KIND_LABELS, MIN_QUERY_LENGTH, normalize_query

# The largest primary key a BigAutoField holds; larger ids are input errors, not lookups.
MAX_ID = 2**63 - 1


class DateInput(forms.DateInput):
    """The browser's own date picker; the value travels as ISO 8601."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PageForm(forms.Form):
    """A form of our pages: labels without Django's trailing colon."""

    default_renderer = PAGE_FORM_RENDERER

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ActivityLogForm(PageForm):
    """Log a call (or meeting, email, demo, task) against a deal or an account."""

    kind = forms.ChoiceField(choices=Activity.Kind.choices, initial=Activity.Kind.CALL)
    outcome = forms.ChoiceField(choices=Activity.Outcome.choices, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(max_length=255, required=False)
    duration_minutes = forms.IntegerField(
        min_value=0, max_value=24 * 60, required=False, label="Minutes"
    )
    opportunity = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )
    account = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )
    # Offered on a deal's forms only (set_milestone_choices): the exit milestone the call
    # worked towards; whether it belongs to the deal is the service's rule.
    milestone = forms.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, widget=forms.HiddenInput
    )

    def __init__(
        self, *args, opportunity_choices: Iterable[Opportunity] | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        if opportunity_choices is not None:
            self.set_opportunity_choices(opportunity_choices)

    def set_milestone_choices(self, milestones: Iterable[Milestone]) -> None:
        """The deal's open milestones by stage (load ``stage`` with them); none: not offered."""
        groups: dict[str, list[tuple[int, str]]] = {}
        for milestone in milestones:
            groups.setdefault(milestone.stage.name, []).append((milestone.pk, milestone.name))
        if not groups:
            return
        field = self.fields["milestone"]
        field.widget = forms.Select(choices=[("", "— none —"), *groups.items()])
        field.label = "Milestone it advanced"
        field.help_text = "Optional: the open exit milestone this call worked towards."
        self.order_fields(["kind", "outcome", "milestone"])

    def set_opportunity_choices(self, deals: Iterable[Opportunity]) -> None:
        """On an account page the deal is optional, picked from the visible open ones."""
        field = self.fields["opportunity"]
        field.widget = forms.Select(
            choices=[("", "— the account only —")] + [(deal.pk, deal.name) for deal in deals]
        )
        field.label = "Opportunity"
        self.order_fields(["opportunity"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("opportunity") and not cleaned.get("account"):
            raise ValidationError("Choose an account or an opportunity.")
        return cleaned


class AsOfForm(PageForm):
    """The deal page's "as of" date (GET ``?as_of=YYYY-MM-DD``): any day up to today."""

    as_of = forms.DateField(
        label="As of",
        widget=DateInput,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2024-03-31."},
    )

    def __init__(self, *args, today: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["as_of"].widget.attrs["max"] = today.isoformat()

    def clean_as_of(self) -> dt.date:
        day = self.cleaned_data["as_of"]
        if day > self.today:
            raise ValidationError("Choose a day up to today: the future has no history yet.")
        return day


class AccountForm(PageForm):
    """An account's own fields, to create one or edit it (the owner moves elsewhere: by
    territory rules or the API). ``expected_updated_at`` is when the edit form was read."""

    name = forms.CharField(max_length=200)
    # A website is welcome too: the service keeps its domain and checks it (accounts.domains).
    domain = forms.CharField(
        max_length=2000,
        required=False,
        label="Mail domain",
        help_text="e.g. acme.com (a website such as https://www.acme.com/ is read as acme.com): "
        "captured mail from an address there is matched to this account.",
    )
    industry = forms.CharField(max_length=80, required=False)
    employee_count = forms.IntegerField(
        min_value=0, max_value=MAX_INTEGER, required=False, label="Employees"
    )
    annual_revenue = MoneyField(required=False, label="Annual revenue")
    country = forms.CharField(max_length=80, required=False)
    region = forms.CharField(max_length=80, required=False)
    state = forms.CharField(max_length=80, required=False, label="State or province")
    expected_updated_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    FIELDS = (
        "name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue",
        "country",
        "region",
        "state",
    )

    @classmethod
    def initial_for(cls, account: Account) -> dict:
        return {
            **{name: getattr(account, name) for name in cls.FIELDS},
            "expected_updated_at": account.updated_at.isoformat(),
        }

    def account_fields(self) -> dict:
        """The cleaned account fields (without the optimistic-lock stamp)."""
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class OpportunityEditForm(PageForm):
    """The fields a seller edits; ``expected_version`` is the version the form was read at."""

    name = forms.CharField(max_length=200)
    amount = MoneyField()
    currency = forms.CharField(min_length=3, max_length=3)
    expected_close_on = forms.DateField(label="Close date", widget=DateInput)
    # The rep's choice; "" follows the stage's default (what a stage move may change).
    forecast_category = forms.ChoiceField(
        choices=[("", "Stage default (no choice)"), *ForecastCategory.choices],
        required=False,
        help_text="Your call on this deal; only open deals. A stage move never changes it.",
    )
    next_step = forms.CharField(max_length=255, required=False)
    lead_source = forms.CharField(
        max_length=80, required=False, help_text="Where the deal came from (campaign, referral…)."
    )
    # Parses any active person: whether the actor may assign to them is the service's call,
    # so a refusal comes back as a clear error on this field.
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True))
    expected_version = forms.IntegerField(
        min_value=1, max_value=MAX_INTEGER, widget=forms.HiddenInput
    )

    def __init__(
        self, *args, can_reassign: bool, owner_choices: Iterable[User] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.can_reassign = can_reassign
        if not can_reassign:
            # Not offered to those salesmgmt.visibility.may_reassign refuses: the current owner
            # rides along hidden, and a different one posted by hand reaches the service, which
            # refuses it with a clear message (403) rather than ignoring it.
            self.fields["owner"].widget = forms.HiddenInput()
            self.fields["owner"].required = False
        self.set_owner_choices(owner_choices)

    def set_owner_choices(self, people: Iterable[User]) -> None:
        """The drop-down offers only the people the actor may pick (no query per render)."""
        if self.can_reassign:
            self.fields["owner"].widget.choices = [(person.pk, str(person)) for person in people]

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    @classmethod
    def initial_for(cls, deal: Opportunity) -> dict:
        return {
            "name": deal.name,
            "amount": deal.amount,
            "currency": deal.currency,
            "expected_close_on": deal.expected_close_on,
            "forecast_category": deal.forecast_category,
            "next_step": deal.next_step,
            "lead_source": deal.lead_source,
            "owner": deal.owner_id,
            "expected_version": deal.version,
        }


class CloseWonForm(PageForm):
    closed_on = forms.DateField(required=False, widget=DateInput, help_text="Empty means today.")
    override_reason = forms.CharField(
        max_length=255,
        required=False,
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the closing milestones are not complete: why it is won anyway.",
    )
    expected_version = forms.IntegerField(
        min_value=1, max_value=MAX_INTEGER, widget=forms.HiddenInput
    )

    def __init__(self, *args, can_override: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_override:
            # Only the owner's managers override (accounts.services.opportunity_close_won).
            del self.fields["override_reason"]


class CloseLostForm(PageForm):
    lost_reason = forms.CharField(
        max_length=200, error_messages={"required": "Say why the deal was lost."}
    )
    closed_on = forms.DateField(required=False, widget=DateInput, help_text="Empty means today.")
    expected_version = forms.IntegerField(
        min_value=1, max_value=MAX_INTEGER, widget=forms.HiddenInput
    )


class MilestoneCompleteForm(PageForm):
    # Whether evidence is mandatory is the milestone's rule, enforced by the service.
    evidence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(max_length=255, required=False)


class MilestoneUndoForm(PageForm):
    note = forms.CharField(max_length=255, required=False)


class CompletionRejectForm(PageForm):
    reason = forms.CharField(
        max_length=255, error_messages={"required": "Say what is wrong with the evidence."}
    )


class OpportunityFilterForm(PageForm):
    """GET filters of the opportunity list; owners are limited to people the viewer sees."""

    ANY = ""
    status = forms.ChoiceField(
        choices=[(ANY, "Any status"), *Opportunity.Status.choices], required=False
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Anyone"
    )

    def __init__(self, *args, people: Iterable[User] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people = list(people)
        field = self.fields["owner"]
        # Validate against the ids already loaded for the drop-down: no second query.
        field.queryset = User.objects.filter(pk__in=[person.pk for person in people])
        field.widget.choices = [("", "Anyone")] + [(person.pk, str(person)) for person in people]


class GlobalSearchForm(PageForm):
    """The header's search box and the /search/ page (accounts.selectors.search)."""

    q = forms.CharField(max_length=100, label="Search")
    kind = forms.ChoiceField(choices=[("", "Everything"), *KIND_LABELS.items()], required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def clean_q(self) -> str:
        value = normalize_query(self.cleaned_data["q"])
        if len(value) < MIN_QUERY_LENGTH:
            raise forms.ValidationError(f"Type at least {MIN_QUERY_LENGTH} characters to search.")
        return value


class AccountSearchForm(PageForm):
    q = forms.CharField(max_length=100, required=False, label="Name")
