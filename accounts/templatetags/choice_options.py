"""``{% options choices selected %}`` and ``{% milestone_options milestones %}``: the <option>s
of a hand-written <select>, built in one call.

The rep home repeats its log-a-call form on every row (kind, outcome, milestone): a template
loop spent a dozen node renders per option there, a tenth of the page's CPU under issue 21's
load. The markup is the loops' own, character for character.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from ..models import Milestone

register = template.Library()

SELECTED = " selected"  # escaping leaves it as it is


@register.simple_tag
def options(choices: Iterable[tuple[object, object]], *selected: object) -> SafeString:
    """One <option> per (value, label) pair, the one given after them (if any) marked."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, SELECTED if value in selected else "", label) for value, label in choices),
    )


@register.simple_tag
def milestone_options(milestones: Iterable[Milestone]) -> SafeString:
    """The milestones (loaded with their stage, in process order) as an <optgroup> per run of
    one stage's name, as ``{% regroup milestones by stage.name %}`` groups them."""
    groups: list[tuple[str, list[Milestone]]] = []
    for milestone in milestones:
        if not groups or groups[-1][0] != milestone.stage.name:
            groups.append((milestone.stage.name, []))
        groups[-1][1].append(milestone)
    return format_html_join(
        "",
        '<optgroup label="{}">{}</optgroup>',
        (
            (
                name,
                format_html_join(
                    "", '<option value="{}">{}</option>', ((m.pk, m.name) for m in members)
                ),
            )
            for name, members in groups
        ),
    )
