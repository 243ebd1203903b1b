"""Give the seeded demo people log-ins and the integrator API tokens; print the plan as JSON.

Run inside the stack's environment: ``python -m scripts.ops.provision PLAN.json``. The demo
gives only one log-in per role a password; a load test needs many distinct reps and
managers, so every rep and manager gets the published demo password here.
"""

from __future__ import annotations

import json
import sys

import django


def main(path: str, tokens: int) -> None:
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db.models import Exists, OuterRef

    from accounts.models import Opportunity
    from demo_data.vocabulary import DEMO_PASSWORD
    from salesmgmt.models import ApiToken, Role, User
    from salesmgmt.services import api_token_create

    hashed = make_password(DEMO_PASSWORD)  # hashed once: thousands of PBKDF2 runs take minutes
    User.objects.filter(role__in=[Role.REP, Role.MANAGER]).update(password=hashed)
    sellers = (
        User.objects.filter(role=Role.REP, is_active=True)
        .filter(Exists(Opportunity.objects.filter(owner=OuterRef("pk"), status="open")))
        .order_by("pk")
    )
    managers = User.objects.filter(
        role=Role.MANAGER, is_active=True, direct_reports__role=Role.REP
    ).distinct()
    integrator = User.objects.get(username="integrator")
    keys = [
        api_token_create(user=integrator, name=f"load {i}", scope=ApiToken.Scope.READ_WRITE)[1]
        for i in range(tokens)
    ]
    plan = {
        "password": DEMO_PASSWORD,
        "reps": list(sellers.values_list("username", flat=True)),
        "managers": sorted(managers.values_list("username", flat=True)),
        "executives": list(
            User.objects.filter(role=Role.EXECUTIVE, username="executive").values_list(
                "username", flat=True
            )
        ),
        "tokens": keys,
    }
    with open(path, "w") as handle:
        json.dump(plan, handle)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 12)
