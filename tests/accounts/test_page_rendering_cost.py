"""What keeps the deal page and the rep home cheap to render (issue 21's load): the page forms
render with Django's Jinja2 form templates, the deal's activities are read without the
visibility rule again, and the rep home's rows render with Jinja2 — every one giving the
markup the slower way gave."""

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
from tests.template_work import count_node_renders


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


def _select(html: str, select_id: str) -> str:
    start = html.index(f'<select id="{select_id}"')
    return html[html.index(">", start) + 1 : html.index("</select>", start)]


def test_rep_home_rows_give_the_option_markup_of_the_template_loops(client, rep_a, deal_a):
    client.force_login(rep_a)
    # Given an open milestone of the deal named as a seller may type it (to be escaped)
    rows = client.get(reverse("accounts:rep_home")).context["rows"]
    milestone = next(row for row in rows if row[0] == deal_a)[2][0]
    milestone.name = 'Budget <"approved"> & signed'
    milestone.save()

    response = client.get(reverse("accounts:rep_home"))

    html = response.text
    milestones = next(row for row in response.context["rows"] if row[0] == deal_a)[2]
    loops = engines["django"].from_string(f"{KIND_LOOP}|{OUTCOME_LOOP}|{MILESTONE_LOOP}")
    kinds, outcomes, grouped = loops.render(
        {"kinds": Activity.Kind.choices, "outcomes": Activity.Outcome.choices,
         "milestones": milestones}
    ).split("|")  # fmt: skip
    pk = deal_a.pk
    assert parse_html(_select(html, f"kind-{pk}")) == parse_html(kinds)
    assert parse_html(_select(html, f"outcome-{pk}")) == parse_html(outcomes)
    milestone_options = _select(html, f"milestone-{pk}")
    assert parse_html(milestone_options) == parse_html(
        f'<option value="">— none —</option>{grouped}'
    )
    assert "Budget &lt;" in milestone_options  # escaped
    assert 'Budget <"approved">' not in milestone_options


def test_rep_home_rows_render_without_django_template_nodes_per_row(client, rep_a):
    """The rows are one Jinja2 render (salesmgmt.table_rows): as Django template nodes (two
    forms a row, ~80 nodes) they cost the page about 15 % more CPU."""
    account = AccountFactory(owner=rep_a)
    OpportunityFactory.create_batch(2, owner=rep_a, account=account)
    client.force_login(rep_a)
    with count_node_renders() as two:
        client.get(reverse("accounts:rep_home"))
    more = 9
    OpportunityFactory.create_batch(more, owner=rep_a, account=account)

    with count_node_renders() as more_rows:
        response = client.get(reverse("accounts:rep_home"))

    assert len(response.context["rows"]) == 2 + more
    assert response.text.count('<summary class="button button--small">Log call</summary>') == (
        2 + more
    )
    assert more_rows.count == two.count


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
