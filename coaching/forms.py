"""Forms of the coaching pages: parse and validate; every write goes through coaching.services."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms

from accounts.forms import MAX_ID, DateInput, PageForm
from accounts.models import Milestone
from salesmgmt.models import SalesRole, User

from .models import (
    MAX_RATING,
    CallDebrief,
    CompetitorPosition,
    Enrolment,
    ProgrammeStep,
    ProofResource,
    ResourceKind,
    ScorecardTemplate,
    SkillTag,
)

RATING_CHOICES = [("", "—"), *[(str(n), str(n)) for n in range(MAX_RATING + 1)]]


class PeopleMixin:
    """A people field whose choices are the ids the view already loaded (no extra query)."""

    people_fields: tuple[str, ...] = ()

    def set_people(self, people: Iterable[User]) -> None:
        people = list(people)
        for name in self.people_fields:
            field = self.fields[name]
            field.queryset = User.objects.filter(pk__in=[p.pk for p in people])
            choices = [(p.pk, str(p)) for p in people]
            if isinstance(field, forms.ModelMultipleChoiceField):
                field.widget.choices = choices
            else:
                field.widget.choices = [("", "—"), *choices]


class ReviewCreateForm(PeopleMixin, PageForm):
    people_fields = ("attendees",)

    account = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    held_on = forms.DateField(label="Date", widget=DateInput)
    attendees = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    template = forms.ModelChoiceField(
        queryset=ScorecardTemplate.objects.all(),
        required=False,
        empty_label="The process's default",
        label="Scorecard",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewNotesForm(PageForm):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ScoreForm(PageForm):
    rating = forms.TypedChoiceField(
        choices=RATING_CHOICES, coerce=int, empty_value=None, required=False
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CompetitorForm(PageForm):
    competitor = forms.CharField(max_length=120)
    area = forms.CharField(max_length=120, label="Area of competition")
    position = forms.ChoiceField(choices=CompetitorPosition.Position.choices)
    plan = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ProofForm(PageForm):
    kind = forms.ChoiceField(choices=ProofResource.Kind.choices)
    planned_on = forms.DateField(label="Planned for", widget=DateInput)
    note = forms.CharField(max_length=255, required=False)


class NegotiationForm(PageForm):
    concession = forms.CharField(max_length=255, label="Concession we can give")
    in_return = forms.CharField(max_length=255, label="What we get for it")


class ActionItemForm(PeopleMixin, PageForm):
    people_fields = ("owner",)

    description = forms.CharField(max_length=255, label="Action")
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    due_on = forms.DateField(label="Due", widget=DateInput)


class DebriefForm(PeopleMixin, PageForm):
    people_fields = ("rep",)

    rep = forms.ModelChoiceField(queryset=User.objects.none())
    held_on = forms.DateField(label="Call date", widget=DateInput)
    opportunity = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    went_well = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What went well")
    to_improve = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What to improve")
    skills = forms.ModelMultipleChoiceField(
        queryset=SkillTag.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def set_opportunities(self, deals: Iterable) -> None:
        """The deal of the call, picked from the team's open deals (already loaded)."""
        field = self.fields["opportunity"]
        field.widget = forms.Select(
            choices=[("", "— none —")]
            + [(deal.pk, f"{deal.name} ({deal.owner})") for deal in deals]
        )
        field.label = "Opportunity"


class PlanForm(PeopleMixin, PageForm):
    people_fields = ("rep",)

    rep = forms.ModelChoiceField(queryset=User.objects.none())
    title = forms.CharField(max_length=120)
    assessed_needs = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class GoalForm(PageForm):
    description = forms.CharField(max_length=255, label="Goal")
    target_on = forms.DateField(label="Target date", widget=DateInput)
    skill = forms.ModelChoiceField(queryset=SkillTag.objects.filter(is_active=True), required=False)


class PlanActionForm(PageForm):
    description = forms.CharField(max_length=255, label="Action")
    due_on = forms.DateField(label="Due", widget=DateInput)


class EvaluationForm(PageForm):
    evaluation = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class SkillRatingForm(PageForm):
    skill = forms.ModelChoiceField(queryset=SkillTag.objects.filter(is_active=True))
    rating = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in range(1, MAX_RATING + 1)], coerce=int
    )


class ResourceRequestForm(PageForm):
    opportunity = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=ResourceKind.choices)
    needed_by = forms.DateField(required=False, widget=DateInput)
    note = forms.CharField(max_length=255, required=False)


class DecisionForm(PageForm):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    note = forms.CharField(max_length=255, required=False, label="Reason / note")
    # A joint call or review past the manager's weekly capacity: approved only when ticked
    # (with a reason in the note); otherwise refused (coaching.capacity).
    over_capacity = forms.BooleanField(required=False, label="Approve over capacity")


# --- onboarding programmes ----------------------------------------------------------------------


class ProgrammeForm(PageForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sales_role = forms.ChoiceField(
        choices=SalesRole.choices, required=False, label="For sales role (blank: any)"
    )
    is_default = forms.BooleanField(
        required=False, label="Enrol new hires of this role automatically"
    )
    launched_on = forms.DateField(required=False, widget=DateInput, label="Launched on")


class ProgrammeStepForm(PageForm):
    kind = forms.ChoiceField(choices=ProgrammeStep.Kind.choices)
    title = forms.CharField(max_length=160)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    due_after_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=30, label="Due (days after the start)"
    )
    milestone = forms.ModelChoiceField(
        queryset=Milestone.objects.select_related("stage").order_by(
            "stage__process_id", "stage__order", "order", "id"
        ),
        required=False,
        label="Milestone (practice steps)",
    )


class EnrolForm(PeopleMixin, PageForm):
    people_fields = ("rep",)

    rep = forms.ModelChoiceField(queryset=User.objects.none())
    started_on = forms.DateField(required=False, widget=DateInput, label="Starts on")


class StepCompleteForm(PageForm):
    step = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    debrief = forms.ModelChoiceField(
        queryset=CallDebrief.objects.none(), required=False, label="Evidence: debrief"
    )
    note = forms.CharField(
        required=False, label="Evidence: note", widget=forms.Textarea(attrs={"rows": 2})
    )

    def set_debriefs(self, debriefs: Iterable[CallDebrief]) -> None:
        debriefs = list(debriefs)
        field = self.fields["debrief"]
        field.queryset = CallDebrief.objects.filter(pk__in=[d.pk for d in debriefs])
        field.widget.choices = [
            ("", "—"),
            *[(d.pk, f"{d.held_on:%b %-d, %Y} with {d.manager}") for d in debriefs],
        ]


class PlanProgrammeForm(PageForm):
    enrolment = forms.ModelChoiceField(
        queryset=Enrolment.objects.none(), required=False, label="Follows programme"
    )
