"""Built-in scorecard templates (Functional/Financial/Political, MEDDPICC), a starter skill
list and default resource-request criteria. Reversible: removes exactly what it added."""

from decimal import Decimal

from django.db import migrations

FFP = "Functional / Financial / Political"
MEDDPICC = "MEDDPICC"

TEMPLATES = {
    FFP: (
        "The seed best practice: qualify on functional needs, financial requirements and "
        "political dynamics.",
        True,
        [
            ("functional", "Functional needs", "functional",
             "Which problems must be solved, and does our solution fit them?"),
            ("financial", "Financial requirements", "financial",
             "Budget, business case, price expectations, the buying process for money."),
            ("political", "Political dynamics", "political",
             "Decision maker, champion, blockers and how the decision is really made."),
        ],
    ),
    MEDDPICC: (
        "Metrics, Economic buyer, Decision criteria, Decision process, Paper process, "
        "Implicate the pain, Champion, Competition.",
        False,
        [
            ("metrics", "Metrics", "financial", "The measurable gain the buyer expects."),
            ("economic_buyer", "Economic buyer", "political", "Who signs, and have we met them?"),
            ("decision_criteria", "Decision criteria", "functional", "How options are judged."),
            ("decision_process", "Decision process", "political", "Steps, people and dates."),
            ("paper_process", "Paper process", "financial", "Legal, procurement, signatures."),
            ("identify_pain", "Implicate the pain", "functional", "The pain and its cost."),
            ("champion", "Champion", "political", "Who sells for us when we are not there?"),
            ("competition", "Competition", "other", "Who else, and where we stand."),
        ],
    ),
}

SKILLS = [
    "Discovery questions",
    "Listening",
    "Demo storytelling",
    "Objection handling",
    "Negotiation",
    "Closing",
    "Account planning",
]

POLICIES = [
    # kind, min amount, min stage order, min qualification %
    ("se_time", Decimal("10000"), 1, 30),
    ("demo", Decimal("10000"), 2, 40),
    ("poc", Decimal("50000"), 2, 60),
]


def add_builtins(apps, schema_editor):
    Template = apps.get_model("coaching", "ScorecardTemplate")
    Criterion = apps.get_model("coaching", "ScorecardCriterion")
    SkillTag = apps.get_model("coaching", "SkillTag")
    Policy = apps.get_model("coaching", "ResourcePolicy")
    for name, (description, is_default, criteria) in TEMPLATES.items():
        template, _ = Template.objects.get_or_create(
            name=name,
            defaults={"description": description, "is_default": is_default, "is_builtin": True},
        )
        for order, (key, label, area, guidance) in enumerate(criteria):
            Criterion.objects.get_or_create(
                template=template,
                key=key,
                defaults={"name": label, "area": area, "guidance": guidance, "order": order},
            )
    for order, name in enumerate(SKILLS):
        SkillTag.objects.get_or_create(name=name, defaults={"order": order})
    for kind, amount, stage_order, qualification in POLICIES:
        Policy.objects.get_or_create(
            kind=kind,
            defaults={
                "min_amount": amount,
                "min_stage_order": stage_order,
                "min_qualification": qualification,
            },
        )


def remove_builtins(apps, schema_editor):
    apps.get_model("coaching", "ScorecardTemplate").objects.filter(
        name__in=list(TEMPLATES), is_builtin=True
    ).delete()
    apps.get_model("coaching", "SkillTag").objects.filter(name__in=SKILLS).delete()
    apps.get_model("coaching", "ResourcePolicy").objects.filter(
        kind__in=[kind for kind, *_ in POLICIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("coaching", "0001_reviews_coaching")]

    operations = [migrations.RunPython(add_builtins, remove_builtins)]
