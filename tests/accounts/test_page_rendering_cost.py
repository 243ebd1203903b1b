"""What keeps the deal page and the rep home cheap to render (issue 21's load): the page forms
render with Django's Jinja2 form templates, the deal's activities are read without the
visibility rule again, and the rep home's <option>s come from one tag call each — every one
giving the markup the slower way gave."""

from __future__ import annotations

import pytest
from django.db import connection
from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import engines
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.forms import ActivityLogForm, CloseWonForm, OpportunityEditForm
from accounts.models import Activity
from accounts.product_forms import LineItemForm
from accounts.team_forms import TeamMemberForm
from salesmgmt.models import User
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory


def _forms(deal, people, **renderer):
    log = ActivityLogForm(initial={"opportunity": deal.pk}, auto_id="log-%s", **renderer)
    log.set_milestone_choices(
        m for stage in deal.process.stages.all() for m in stage.milestones.all()
    )
    return [
        log,
        OpportunityEditForm(
            initial=OpportunityEditForm.initial_for(deal),
            can_reassign=True,
            owner_choices=people,
            auto_id="edit-%s",
            **renderer,
        ),
        CloseWonForm(initial={"expected_version": 1}, can_override=True, **renderer),
        # A refused form: its errors render too
        CloseWonForm({"expected_version": "x"}, can_override=True, **renderer),
        LineItemForm(auto_id="line-%s", **renderer),
        TeamMemberForm(people=User.objects.filter(pk__in=[p.pk for p in people]), **renderer),
    ]


def _html(form) -> str:
    return "".join(field.as_field_group() for field in form)


def test_page_forms_render_with_jinja2_and_the_markup_of_django_templates(deal_a, rep_a, manager_a):
    people = [rep_a, manager_a]

    jinja = _forms(deal_a, people)
    django = _forms(deal_a, people, renderer=DjangoTemplates())

    assert all(isinstance(form.renderer, Jinja2) for form in jinja)
    for fast, slow in zip(jinja, django, strict=True):
        assert parse_html(_html(fast)) == parse_html(_html(slow))


@pytest.mark.parametrize("n", [3, 30])
def test_deal_page_reads_its_activities_without_the_visibility_subqueries(
    client, rep_a, manager_a, deal_a, n
):
    # Given n activities on the deal
    for i in range(n):
        ActivityFactory(owner=rep_a, account=deal_a.account, opportunity=deal_a, notes=f"N{i}")
    client.force_login(manager_a)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))

    # Then its activity reads (the others' page and count, the calls by milestone) find
    # the deal's rows by its id alone, with no visibility subquery (whoever sees a deal sees
    # all its activities), joining only who logged them
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if f'"{Activity._meta.db_table}"."milestone_id" IS' in q["sql"]
    ]
    assert len(reads) == (2 if n <= 25 else 3)  # the others' COUNT only past one page
    assert all("EXISTS" not in sql for sql in reads)
    assert all('"accounts_opportunity"' not in sql for sql in reads)
    assert len(response.context["activities"].page.object_list) == min(n, 25)


KIND_LOOP = (
    '{% for value, label in kinds %}<option value="{{ value }}"'
    '{% if value == "call" %} selected{% endif %}>{{ label }}</option>{% endfor %}'
)
OUTCOME_LOOP = (
    '{% for value, label in outcomes %}<option value="{{ value }}">{{ label }}</option>{% endfor %}'
)
MILESTONE_LOOP = (
    "{% regroup milestones by stage.name as by_stage %}{% for stage in by_stage %}"
    '<optgroup label="{{ stage.grouper }}">{% for m in stage.list %}'
    '<option value="{{ m.pk }}">{{ m.name }}</option>{% endfor %}</optgroup>{% endfor %}'
)


def test_option_tags_give_the_markup_of_the_template_loops(deal_a):
    engine = engines["django"]
    milestones = [
        m
        for stage in deal_a.process.stages.order_by("order")
        for m in stage.milestones.order_by("order", "id")
    ]
    # A name that needs escaping, as a seller may type one
    milestones[0].name = 'Budget <"approved"> & signed'
    context = {
        "kinds": Activity.Kind.choices,
        "outcomes": Activity.Outcome.choices,
        "milestones": milestones,
    }
    tags = engine.from_string(
        "{% load choice_options %}{% options kinds 'call' %}|{% options outcomes %}|"
        "{% milestone_options milestones %}"
    ).render(context)
    loops = engine.from_string(f"{KIND_LOOP}|{OUTCOME_LOOP}|{MILESTONE_LOOP}").render(context)

    assert tags == loops
    kinds, outcomes, _ = tags.split("|")
    assert '<option value="call" selected>' in kinds
    assert " selected" not in outcomes


def test_rep_home_rows_offer_the_same_choices(client, rep_a, deal_a):
    client.force_login(rep_a)

    text = client.get(reverse("accounts:rep_home")).text

    assert f'<select id="kind-{deal_a.pk}" name="kind">' in text
    assert '<option value="call" selected>Call</option>' in text
    assert '<option value="">—</option><option value="connected">' in text
    assert f'action="{reverse("accounts:activity_log")}"' in text


@pytest.mark.parametrize(("n", "counts"), [(5, 0), (25, 0), (30, 1)])
def test_a_list_that_fits_on_its_first_page_is_counted_by_its_length(
    client, process, rep_a, n, counts
):
    OpportunityFactory.create_batch(n, owner=rep_a, account=AccountFactory(owner=rep_a))
    client.force_login(rep_a)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("accounts:rep_home"))

    deals = response.context["deals"].page
    assert len(deals.object_list) == min(n, 25)
    assert deals.paginator.count == n
    counted = [
        q
        for q in captured.captured_queries
        if 'COUNT(*) AS "__count" FROM "accounts_opportunity"' in q["sql"]
    ]
    assert len(counted) == counts
