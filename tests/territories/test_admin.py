"""The admin pages of the territories app load, and quota edits there are audited."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from territories.models import Quota, QuotaChange, RampSchedule
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory, QuotaFactory

MODELS = [
    "territory", "assignmentrule", "accountterritoryassignment", "assignmentrun",
    "territorybalancesnapshot", "rampschedule", "companytarget", "quota", "quotachange",
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelists_load(client, admin_user, territory_map, q1, model):
    AssignmentRuleFactory(territory=territory_map["norcal"], states=["CA"])
    AssignmentFactory(territory=territory_map["norcal"])
    QuotaFactory(user=territory_map["norcal"].owner, period=q1)
    client.force_login(admin_user)

    response = client.get(reverse(f"admin:territories_{model}_changelist"))

    assert response.status_code == 200


def test_admin_quota_edit_goes_through_the_service_with_a_reason(client, admin_user, rep_a, q1):
    quota = QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(100), amount=Decimal(100))
    client.force_login(admin_user)
    url = reverse("admin:territories_quota_change", args=[quota.pk])

    response = client.post(url, {
        "user": rep_a.pk, "period": q1.pk, "basis": "components", "territory_quota": "200",
        "assignment_share": "1", "manager_adjustment": "0", "amount": "", "reason": "Admin fix",
    })  # fmt: skip

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Quota.objects.get(pk=quota.pk).amount == Decimal("200.00")
    change = QuotaChange.objects.get(field="territory_quota")
    assert (change.reason, change.source, change.changed_by) == ("Admin fix", "admin", admin_user)


def test_ramp_schedule_refuses_percentages_outside_0_to_100(db):
    with pytest.raises(ValidationError):
        RampSchedule(name="Bad", monthly_percentages=[50, 120]).full_clean()
    RampSchedule(name="Good", monthly_percentages=[30, 60, 100]).full_clean()
