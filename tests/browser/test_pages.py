"""Every page of the product in a real browser, as the role that uses it.

One test per role visits all of that role's pages in one loop (``visit_all``): each answers
200 with a main heading (and shows the seeded record where one is named), logs no console
error and makes no request off the host; every page is also opened at 390 px and must not
scroll sideways. Every failing URL is reported at once. Then the role's main action is driven
where one is cheap: a rep logs a call and a manager submits the team's call (both at 390 px),
an admin imports a file through the mapping step, an executive's first sign-in sets up the
authenticator. The data are made
once per test (``world``: live_server's transactional tests flush the database after each),
and each role logs in once through the form (``as_user`` reuses the session for its other
tabs).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Activity, Product
from compensation import services as compensation
from compensation.models import ComponentKind
from forecasting.models import CallOfRecord, ForecastCall
from salesmgmt import invitations
from salesmgmt.models import Period, TOTPDevice
from tests.browser.conftest import (
    BROWSER_TEST,
    PASSWORD,
    PHONE,
    PHONE_TOLERANCE,
    page_width,
    quiet_refresh,
    visit_all,
)
from tests.coaching.factories import (
    AccountReviewFactory,
    CallDebriefFactory,
    DevelopmentPlanFactory,
    ResourceRequestFactory,
    current_quarter,
    kpi,
    rollup,
)
from tests.compensation.factories import (
    TIERED,
    PlanAssignmentFactory,
    PlanFactory,
    component,
    quota,
    won_deal,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    MilestoneCompletionFactory,
    OpportunityFactory,
    UserFactory,
)
from tests.territories.factories import AssignmentRuleFactory, TerritoryFactory

pytestmark = BROWSER_TEST


def _h1(text: str):
    def check(page) -> None:
        heading = page.locator("h1").first.inner_text()
        assert text in heading, f"heading {heading!r}, expected {text!r}"

    return check


def _shows(text: str):
    def check(page) -> None:
        assert page.get_by_text(text).count() >= 1, f"{text!r} is not on the page"

    return check


@pytest.fixture
def world(process, rep_a, se_a, rep_b, manager_a, manager_b, executive, admin_user, live_server):
    """A small realistic company: deals, calls, milestones, forecast rows, coaching records,
    a paid compensation run, a territory with a rule and quotas, a product, an invitation."""
    with quiet_refresh():
        data = _build_world(process, rep_a, se_a, rep_b, manager_a, manager_b, executive)
        newcomer = UserFactory(username="newcomer", manager=manager_a, password=None)
        data["invitation"] = invitations.user_invite(
            actor=admin_user, user=newcomer, base_url=live_server.url
        ).link.removeprefix(live_server.url)
    return data


def _build_world(process, rep_a, se_a, rep_b, manager_a, manager_b, executive) -> dict:
    period = current_quarter()
    account = AccountFactory(owner=rep_a, name="Globex")
    ContactFactory(account=account, first_name="Hank", last_name="Scorpio")
    deal = OpportunityFactory(owner=rep_a, account=account, name="Globex renewal")
    OpportunityFactory(owner=rep_b, name="Initech expansion")
    first = process.stages.order_by("order").first().milestones.order_by("order").first()
    MilestoneCompletionFactory(opportunity=deal, milestone=first)
    ActivityFactory(
        owner=rep_a, account=account, opportunity=deal, notes="Walked the CFO through pricing"
    )
    won = won_deal(rep_a, "42000", timezone.localdate() - dt.timedelta(days=3), account=account)
    _forecast(period, rep_a, se_a, rep_b, manager_a, manager_b)
    review = AccountReviewFactory(account=account, created_by=manager_a)
    plan = DevelopmentPlanFactory(rep=rep_a, created_by=manager_a)
    CallDebriefFactory(rep=rep_a, manager=manager_a)
    ResourceRequestFactory(opportunity=deal, requested_by=rep_a)
    statement = _paid(period, executive, rep_a, se_a, rep_b)
    territory = TerritoryFactory(owner=rep_a, name="West")
    rule = AssignmentRuleFactory(territory=territory, name="Western software")
    product = Product.objects.create(name="Gizmo Pro", family="Gizmos", list_price=Decimal(990))
    return {
        "period": period,
        "account": account,
        "deal": deal,
        "won": won,
        "review": review,
        "plan": plan,
        "statement": statement,
        "territory": territory,
        "rule": rule,
        "product": product,
    }


def _forecast(period, rep_a, se_a, rep_b, manager_a, manager_b) -> None:
    last_week = timezone.localdate() - dt.timedelta(days=7)
    for person, amount in ((rep_a, 4000), (manager_a, 9000), (rep_b, 3000), (manager_b, 7000)):
        rollup(person, period, commit_amount=amount, weighted_amount=amount, p50_amount=amount)
        ForecastCall.objects.create(
            person=person, period=period, commit_amount=amount, best_case_amount=amount,
            submitted_by=person,
        )  # fmt: skip
        CallOfRecord.objects.create(
            person=person, period=period, locked_on=last_week, commit_amount=amount - 1500,
            best_case_amount=amount,
        )  # fmt: skip
    for person in (rep_a, se_a):
        kpi(
            person,
            period,
            stage_conversion={"1": 0.6, "2": 0.3},
            days_in_stage={"2": 30},
            win_rate_count=0.3,
            average_deal_amount=12000,
            activities_by_kind={"call": 9, "email": 4},
        )


def _paid(period: Period, executive, *reps):
    """A processed payout run of ``period`` under a tiered commission plan: rep_a's statement."""
    plan = PlanFactory(name="AE plan")
    component(plan, ComponentKind.COMMISSION, TIERED, name="Commission")
    PlanAssignmentFactory(plan=plan, role="rep", effective_from=period.start_on)
    for rep in reps:
        quota(rep, period, "150000")
    run = compensation.payout_run_compute(period=period, actor=executive)
    run = compensation.payout_run_process(run=run, actor=executive)
    return run.statements.get(rep=reps[0])


def test_a_rep_uses_every_rep_page_and_logs_a_call_on_a_phone(as_user, world, rep_a):
    deal, account = world["deal"], world["account"]
    phone = as_user(rep_a, viewport=PHONE)
    visit_all(
        phone,
        [
            (reverse("accounts:rep_home"), _shows("Globex renewal")),
            (reverse("accounts:opportunity_list"), _shows("Globex renewal")),
            (reverse("accounts:opportunity_detail", args=[deal.pk]), _h1("Globex renewal")),
            (reverse("accounts:account_list"), _shows("Globex")),
            (reverse("accounts:account_detail", args=[account.pk]), _shows("Scorpio")),
            (reverse("accounts:product_list"), _shows("Gizmo Pro")),
            (reverse("accounts:product_detail", args=[world["product"].pk]), _h1("Gizmo")),
            (reverse("coaching:rep_coaching", args=[rep_a.pk]), None),
            (reverse("coaching:plan_list"), None),
            (reverse("coaching:plan_detail", args=[world["plan"].pk]), None),
            (reverse("coaching:request_list"), None),
            (reverse("forecasting:forecast"), None),
            (reverse("compensation:my_statements"), None),
            (reverse("compensation:statement_detail", args=[world["statement"].pk]), None),
            (reverse("compensation:deal_credit", args=[world["won"].pk]), None),
            (reverse("compensation:whatif"), None),
            (reverse("compensation:plan_list"), None),
            (reverse("two_factor_settings"), None),
            (reverse("two_factor_enrol"), None),
            (reverse("api_tokens"), None),
        ],
        phone=True,
    )
    log_a_call_on_rep_home(phone, rep_a)


def log_a_call_on_rep_home(phone, rep_a) -> None:
    """The rep's main action at 390 px: the deal's card on rep home opens the log form in
    the flow of the page, which still fits the screen."""
    phone.goto(reverse("accounts:rep_home"))
    card = phone.locator("tr", has_text="Globex renewal")
    card.locator("summary", has_text="Log call").click()
    card.locator("textarea[name=notes]").fill("Agreed the rollout plan")
    assert page_width(phone) <= PHONE["width"] + PHONE_TOLERANCE
    card.locator("button", has_text="Save").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Call logged on Globex renewal").count() == 1
    assert Activity.objects.filter(notes="Agreed the rollout plan", owner=rep_a).count() == 1


def submit_the_team_call(phone, manager_a) -> None:
    """The manager's weekly action on the forecast page, at 390 px."""
    phone.goto(reverse("forecasting:forecast"))
    form = phone.locator("#my-call form")
    form.locator("input[name=commit_amount]").fill("9500")
    form.locator("input[name=best_case_amount]").fill("12000")
    form.get_by_role("button", name="Submit call").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Your call is submitted.").count() == 1
    assert page_width(phone) <= PHONE["width"] + PHONE_TOLERANCE
    latest = ForecastCall.objects.filter(person=manager_a).latest("submitted_at")
    assert latest.commit_amount == Decimal(9500)


def test_a_manager_uses_every_manager_page_and_calls_the_forecast_on_a_phone(
    as_user, world, manager_a, rep_a
):
    deal = world["deal"]
    visits = [
        (reverse("coaching:team_dashboard"), _shows(str(rep_a))),
        (reverse("coaching:ramp"), None),
        (reverse("coaching:rep_coaching", args=[rep_a.pk]), _h1(str(rep_a))),
        (reverse("coaching:review_list"), None),
        (reverse("coaching:review_detail", args=[world["review"].pk]), None),
        (reverse("coaching:debrief_list"), None),
        (reverse("coaching:plan_detail", args=[world["plan"].pk]), None),
        (reverse("coaching:request_list"), None),
        (reverse("accounts:opportunity_detail", args=[deal.pk]), None),
        (reverse("forecasting:forecast"), None),
        (reverse("forecasting:calibration"), None),
        (reverse("forecasting:waterfall"), None),
        (reverse("forecasting:kpis"), None),
        (reverse("forecasting:flags"), None),
        (reverse("forecasting:accuracy"), None),
        (reverse("compensation:team_statements"), None),
        (reverse("compensation:dispute_list"), None),
        (reverse("territories:overview"), None),
        (reverse("territories:quota_plan"), None),
    ]
    # At 390 px only (the sideways-scrolling manager pages): test_flows drives the
    # dashboard, coaching and review pages at desktop width.
    phone = as_user(manager_a, viewport=PHONE)
    visit_all(phone, visits, phone=True)
    submit_the_team_call(phone, manager_a)


def test_an_executive_uses_every_executive_page(as_user, world, executive, rep_a):
    period = world["period"]
    visits = [
        (reverse("coaching:executive_rollup"), None),
        (reverse("territories:allocation"), None),
        (reverse("territories:quota_edit", args=[period.pk, rep_a.pk]), None),
        (reverse("compensation:payroll"), None),
    ]
    visit_all(as_user(executive), visits)
    visit_all(as_user(executive, viewport=PHONE), visits, phone=True)


def test_an_admin_uses_every_setup_page_and_imports_a_file(
    as_user, world, admin_user, rep_a, process, tmp_path
):
    visits = [
        (reverse("setup_checklist"), None),
        (reverse("setup_company"), None),
        (reverse("accounts:process_list"), None),
        (reverse("accounts:process_detail", args=[process.pk]), None),
        (reverse("people_invitations"), _shows("newcomer")),
        (reverse("imports"), None),
        (reverse("territories:territory_create"), None),
        (reverse("territories:territory_edit", args=[world["territory"].pk]), None),
        (reverse("territories:rule_create"), None),
        (reverse("territories:rule_edit", args=[world["rule"].pk]), None),
        (reverse("territories:assignment_preview"), None),
    ]
    desktop = as_user(admin_user)
    visit_all(desktop, visits)
    visit_all(as_user(admin_user, viewport=PHONE), visits, phone=True)
    import_accounts_through_the_mapping_step(desktop, rep_a, tmp_path)


def import_accounts_through_the_mapping_step(page, rep_a, tmp_path) -> None:
    """The import pages' main action: upload, confirm the mapping, check, then import."""
    csv = tmp_path / "accounts.csv"
    csv.write_text(
        f"Company,Sector,Owner\nAcme Corp,Software,{rep_a.email}\nHooli,Internet,{rep_a.email}\n"
    )
    page.goto(reverse("imports"))
    page.select_option("select[name=kind]", "accounts")
    page.set_input_files("input[name=file]", str(csv))
    page.locator("input[name=dry_run]").set_checked(True)
    page.locator("input[name=map_first]").set_checked(True)
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert re.search(r"/imports/\d+/mapping/$", page.url)
    headers = page.locator("[data-table=headers] tbody tr")
    headers.filter(has_text="Company").locator("select[name^=column-]").select_option("name")
    headers.filter(has_text="Sector").locator("select[name^=column-]").select_option("industry")
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    page.locator("#summary").wait_for()
    page.get_by_role("button", name=re.compile(r"^Import these")).click()
    page.wait_for_load_state()
    page.locator("#summary").wait_for()
    assert set(Account.objects.filter(name__in=["Acme Corp", "Hooli"]).values_list(
        "industry", flat=True
    )) == {"Software", "Internet"}  # fmt: skip


def test_an_executive_signs_in_the_first_time_and_turns_on_two_factor(new_page, world, executive):
    """The sign-in pages: the log-in form, then (an executive must use a second factor) the
    authenticator set-up with the secret the page shows; an invited person's link."""
    page = new_page(viewport=PHONE)
    visit_all(page, [(reverse("login"), None), (world["invitation"], None)], phone=True)
    page.goto(reverse("login"))
    page.fill("input[name=username]", executive.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(reverse("two_factor_login_enrol"))
    assert page_width(page) <= PHONE["width"] + PHONE_TOLERANCE
    secret = "".join(page.locator("code.strong").inner_text().split())  # shown in groups
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    assert page.locator("h1").count() == 1
    assert TOTPDevice.objects.filter(user=executive, confirmed_at__isnull=False).count() == 1
