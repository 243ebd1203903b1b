"""Demo data: a deterministic sales organisation with two years of deal history.

One ``random.Random(seed)`` drives every draw, so a seed gives the same people, accounts and
deals (database ids aside) on a given day. Rows are bulk-inserted, so they are built the way
the services would write them: a deal's stage is what ``accounts.stages.derive_stage_id``
makes of its completed milestones, and every tracked field is in ``OpportunityChange`` (a
creation row per field, then each change) so ``opportunities_as_of`` can replay any deal.

The simulation keeps time as float days relative to midnight today (negative is the past);
nothing but planned activities lies after that moment.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import (
    DO_NOTHING,
    SET_NULL,
    CharField,
    Model,
    ProtectedError,
    Q,
    QuerySet,
    TextField,
)
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Contact,
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
    SalesProcess,
    Stage,
)
from accounts.stages import StageSpec, derive_stage_id
from salesmgmt.errors import ApplicationError
from salesmgmt.models import ExchangeRate, Role, SalesRole, User
from salesmgmt.services import ensure_periods, set_exchange_rate

DEMO_PASSWORD = "demo1234!"  # noqa: S105 - published on purpose: seed_demo prints it
# external_id prefix of every demo person and account: how reset finds demo data.
DEMO_MARKER = "demo:"
EMAIL_DOMAIN = "demo.example.com"
BATCH_SIZE = 5000
COPY_BATCH_SIZE = 50000
DEALS_PER_CHUNK = 2500
TEAM_SIZE = 8
TEAM_ROLES = {5: SalesRole.SDR, 6: SalesRole.AM, 7: SalesRole.SE}  # by seat in the team
MANAGERS_PER_DIRECTOR = 5
HISTORY_QUARTERS = 8
RAMP_DAYS = 90
# A deal whose close date is pushed more often than this is closed lost as stalled.
MAX_SLIPS = 3
MEAN_STAGE_DAYS = 28.0
# Deal creation grows by e**GROWTH over the window (about 2x).
GROWTH = 0.9

# (username, first, last, title, role); the rep reports to the manager, who reports up to
# the executive through a director.
LOGINS = [
    ("rep", "Riley", "Santos", "Account Executive", Role.REP),
    ("manager", "Marcus", "Webb", "Sales Manager", Role.MANAGER),
    ("executive", "Evelyn", "Hart", "Chief Revenue Officer", Role.EXECUTIVE),
    ("admin", "Alex", "Morgan", "Sales Operations", Role.ADMIN),
    ("integrator", "Data", "Sync", "Integration account", Role.INTEGRATOR),
]

# fmt: off
# The vocabulary of the demo world; kept as compact tables, not one word a line.
PC = ForecastCategory
PROCESSES = [
    # name, description, may be the default, [(stage, forecast category, [(milestone, evidence)])]
    ("Standard B2B", "Multi-stakeholder deals with exit criteria at every stage.", True, [
        ("Qualify", PC.PIPELINE, [("Budget holder identified", False),
                                  ("Pain confirmed by the buyer", True)]),
        ("Discover", PC.PIPELINE, [("Discovery meeting with stakeholders", True),
                                   ("Success criteria agreed", True),
                                   ("Decision process mapped", False)]),
        ("Solution", PC.BEST_CASE, [("Demo delivered to the buying group", False),
                                    ("Proposal sent", True)]),
        ("Negotiate", PC.BEST_CASE, [("Pricing accepted in principle", True),
                                     ("Legal review started", False)]),
        ("Commit", PC.COMMIT, [("Contract signed", True)]),
    ]),
    ("Transactional", "Short-cycle deals with a single buyer.", False, [
        ("Qualify", PC.PIPELINE, [("Need confirmed", False)]),
        ("Demo", PC.BEST_CASE, [("Demo delivered", False), ("Quote sent", True)]),
        ("Close", PC.COMMIT, [("Order form signed", True)]),
    ]),
]
# region -> [(country, currency, [states or cities])]; teams take regions in this order, so
# even a two-team org sells in EUR and GBP.
REGIONS = {
    "North America West": [("US", "USD", ["CA", "WA", "OR", "CO", "AZ", "UT"])],
    "EMEA": [("GB", "GBP", ["London", "Manchester"]), ("DE", "EUR", ["Berlin", "Munich"]),
             ("FR", "EUR", ["Paris", "Lyon"]), ("NL", "EUR", ["Amsterdam"]),
             ("ES", "EUR", ["Madrid"]), ("SE", "EUR", ["Stockholm"])],
    "North America East": [("US", "USD", ["NY", "MA", "IL", "GA", "FL", "NC"]),
                           ("CA", "USD", ["ON", "QC"])],
    "APAC": [("AU", "USD", ["NSW", "VIC"]), ("SG", "USD", ["Singapore"]),
             ("JP", "USD", ["Tokyo"]), ("IN", "USD", ["Bengaluru"])],
    "LATAM": [("BR", "USD", ["São Paulo"]), ("MX", "USD", ["CDMX"]), ("CL", "USD", ["Santiago"])],
}
# Starting rates (USD per unit); each quarter drifts from here.
START_RATES = {"EUR": 1.08, "GBP": 1.27}
INDUSTRIES = {  # industry -> words that end its companies' names
    "Software": ["Systems", "Labs", "Cloud"], "Financial Services": ["Bank", "Capital"],
    "Healthcare": ["Health", "Clinics"], "Manufacturing": ["Industries", "Manufacturing"],
    "Retail": ["Retail", "Stores"], "Education": ["Learning", "Academy"],
    "Telecommunications": ["Telecom", "Networks"], "Energy": ["Energy", "Power"],
    "Logistics": ["Logistics", "Freight"], "Media": ["Media", "Studios"],
    "Insurance": ["Insurance", "Assurance"], "Hospitality": ["Hotels", "Hospitality"],
}
NAME_STARTS = ["North", "Blue", "Silver", "Iron", "Bright", "Red", "Green", "Summit", "Clear",
               "Swift", "Stone", "Oak", "Pine", "River", "Lake", "Sun", "Star", "Gold", "Hill",
               "Bay", "Cedar", "Maple", "Harbor", "Falcon", "Copper", "Aspen", "Crystal"]
NAME_ENDS = ["wind", "peak", "field", "gate", "bridge", "works", "line", "point", "wave",
             "crest", "haven", "ridge", "forge", "light", "vale", "mark", "stream"]
FIRST_NAMES = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
               "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
               "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew",
               "Nancy", "Anil", "Priya", "Kenji", "Yuki", "Lukas", "Sofia", "Mateo", "Amara",
               "Olga", "Hugo", "Chloe", "Noah", "Emma", "Liam", "Ava", "Omar", "Fatima", "Wei",
               "Mei", "Ines"]
LAST_NAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
              "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
              "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott",
              "Nguyen", "Patel", "Kim", "Schmidt", "Mueller", "Rossi", "Dubois", "Tanaka",
              "Silva"]
CONTACT_TITLES = ["CFO", "CIO", "VP Operations", "Head of IT", "Procurement Manager",
                  "Director of Finance", "COO", "IT Manager", "VP Sales", "Head of Data"]
PRODUCTS = ["Platform", "Analytics add-on", "Enterprise licence", "Seat expansion", "Pilot",
            "Support upgrade", "Data integration", "Security module", "Renewal uplift"]
LOST_REASONS = [  # by stage position: early, middle, late
    ["No budget", "Not a fit", "No compelling event"],
    ["Lost to competitor", "No decision", "Champion left"],
    ["Price", "Lost to competitor in the final round", "Procurement freeze"],
]
STALLED_REASON = "Stalled: no decision"
ACTIVITY_KINDS = [  # (kind, weight) by stage position: early, middle, late
    [(Activity.Kind.CALL, 40), (Activity.Kind.EMAIL, 30), (Activity.Kind.MEETING, 15),
     (Activity.Kind.TASK, 15)],
    [(Activity.Kind.MEETING, 35), (Activity.Kind.DEMO, 25), (Activity.Kind.EMAIL, 25),
     (Activity.Kind.CALL, 15)],
    [(Activity.Kind.EMAIL, 35), (Activity.Kind.MEETING, 35), (Activity.Kind.CALL, 20),
     (Activity.Kind.TASK, 10)],
]
ACTIVITY_NOTES = {
    Activity.Kind.CALL: ["Intro call", "Follow-up on open questions", "Checked timeline"],
    Activity.Kind.EMAIL: ["Sent recap and next steps", "Shared case study", "Sent pricing"],
    Activity.Kind.MEETING: ["Stakeholder meeting", "Mapped the decision process",
                            "Reviewed success criteria"],
    Activity.Kind.DEMO: ["Product demo", "Technical deep dive", "Demo for the buying group"],
    Activity.Kind.TASK: ["Prepare proposal", "Update mutual action plan", "Internal deal review"],
}
NEXT_STEPS = ["Send proposal", "Book technical review", "Meet the economic buyer",
              "Confirm budget", "Agree on the mutual action plan", "Legal review"]
# fmt: on
# Per-rep skill archetypes: (share, early-stage skill, late-stage skill) as logit shifts, so
# some reps convert well at discovery and badly at closing, and the other way round.
ARCHETYPES = {
    "balanced": (0.40, 0.0, 0.0),
    "opener": (0.20, 1.2, -1.2),
    "closer": (0.20, -0.9, 1.1),
    "star": (0.10, 0.8, 0.8),
    "struggling": (0.10, -0.8, -0.8),
}
SEGMENTS = {  # name: (share, employees range, median deal in USD, stage-duration scale)
    "smb": (0.45, (10, 199), 9000, 0.6),
    "mid_market": (0.35, (200, 1999), 38000, 1.0),
    "enterprise": (0.20, (2000, 50000), 150000, 1.6),
}
TRANSACTIONAL_SHARE = {"smb": 0.7, "mid_market": 0.2, "enterprise": 0.0}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    name: str
    reports_to: str


@dataclass
class DemoResult:
    created: bool
    counts: dict[str, int]
    logins: list[DemoLogin]


@dataclass
class _Rep:
    user: User
    team: int
    early: float
    late: float
    capacity: float
    hire_t: float
    is_ramping: bool
    accounts: list[tuple[Account, str]] = field(default_factory=list)  # with its segment


@dataclass
class _Process:
    process: SalesProcess
    specs: list[StageSpec]
    stages: list[Stage]
    milestones: list[list[Milestone]]


# Columns of the rows insert_rows writes, in the order the builder makes the tuples.
# fmt: off
CONTACT_COLUMNS = [
    "account_id", "first_name", "last_name", "title", "email", "buying_role", "created_at",
]
COMPLETION_COLUMNS = [
    "opportunity_id", "milestone_id", "completed_by_id", "completed_at", "evidence",
    "verification_state", "verified_by_id", "verified_at", "created_at",
]
CHANGE_COLUMNS = [
    "opportunity_id", "field", "old_value", "new_value", "changed_by_id", "changed_at",
]
TEAM_COLUMNS = ["opportunity_id", "user_id", "team_role", "created_at"]
ACTIVITY_COLUMNS = [
    "kind", "owner_id", "account_id", "opportunity_id", "milestone_id", "occurred_at",
    "duration_minutes", "outcome", "notes", "next_step", "created_at",
]
# fmt: on


def insert_rows(model: type[Model], columns: list[str], rows: list[tuple]) -> None:
    """INSERT plain tuples of database-ready values; other columns take their defaults.

    The demo's millions of history rows skip model instances and Django's per-value
    preparation, which cost several times what the database itself spends. No signals, no
    ``full_clean``: the builder makes rows the way the services would.
    """
    if not rows:
        return
    ops = connection.ops
    now = timezone.now()
    given = set(columns)
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given]
    defaults = tuple(
        f.get_db_prep_save(now if getattr(f, "auto_now", False) else f.get_default(), connection)
        for f in rest
    )
    fields = [model._meta.get_field(name) for name in columns] + rest
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    table = ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(fields))
            # Identifiers only, from model metadata and quoted; every value is a parameter.
            insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            for first in range(0, len(rows), BATCH_SIZE):
                cursor.executemany(insert, [r + defaults for r in rows[first : first + BATCH_SIZE]])
            return
        # COPY is PostgreSQL's bulk path, several times faster than multi-row INSERTs. In CSV
        # an unquoted empty field is NULL, so NOT NULL text columns are forced to "" instead.
        texts = ", ".join(
            ops.quote_name(f.column)
            for f in fields
            if not f.null and isinstance(f, CharField | TextField)
        )
        force = f", FORCE_NOT_NULL ({texts})" if texts else ""
        copy = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv{force})"
        for first in range(0, len(rows), COPY_BATCH_SIZE):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(
                row + defaults for row in rows[first : first + COPY_BATCH_SIZE]
            )
            buffer.seek(0)
            cursor.cursor.copy_expert(copy, buffer)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _cents_text(cents: int) -> str:
    """Money as accounts.services._as_text writes it: quantized to cents."""
    return f"{cents // 100}.{cents % 100:02d}"


def demo_users() -> QuerySet[User]:
    return User.objects.filter(external_id__startswith=DEMO_MARKER)


def demo_org_exists() -> bool:
    return demo_users().exists()


def demo_logins() -> list[DemoLogin]:
    """The demo logins, one per role, as stored (one query)."""
    users = {
        u.username: u
        for u in demo_users()
        .filter(username__in=[row[0] for row in LOGINS])
        .select_related("manager")
    }
    return [
        DemoLogin(
            role=users[name].get_role_display(),
            username=name,
            name=users[name].get_full_name(),
            reports_to=users[name].manager.username if users[name].manager else "",
        )
        for name, *_ in LOGINS
        if name in users
    ]


def demo_counts() -> dict[str, int]:
    users = demo_users()
    deals = Opportunity.objects.filter(owner__in=users)
    return {
        "users": users.count(),
        "reps": users.filter(role=Role.REP).count(),
        "accounts": Account.objects.filter(owner__in=users).count(),
        "contacts": Contact.objects.filter(account__owner__in=users).count(),
        "opportunities": deals.count(),
        "won": deals.filter(status=Opportunity.Status.WON).count(),
        "lost": deals.filter(status=Opportunity.Status.LOST).count(),
        "open": deals.filter(status=Opportunity.Status.OPEN).count(),
        "milestone_completions": MilestoneCompletion.objects.filter(opportunity__in=deals).count(),
        "opportunity_changes": OpportunityChange.objects.filter(opportunity__in=deals).count(),
        "activities": Activity.objects.filter(opportunity__in=deals).count(),
        "team_members": OpportunityTeamMember.objects.filter(opportunity__in=deals).count(),
    }


@transaction.atomic
def delete_demo_data() -> None:
    """Remove every demo person and what they own; processes, periods and rates stay."""
    try:
        _delete_demo_rows()
    except ProtectedError as exc:
        raise ApplicationError(
            "Demo people have worked on records outside the demo data "
            f"({len(exc.protected_objects)} found); remove those first."
        ) from exc


def _delete_demo_rows() -> None:
    users = demo_users()
    accounts = Account.objects.filter(owner__in=users)
    _delete_deals_quietly(Opportunity.objects.filter(owner__in=users))
    Activity.objects.filter(Q(account__in=accounts) | Q(owner__in=users)).delete()
    accounts.delete()
    # Deepest first: a manager is PROTECTed by their reports.
    by_depth: dict[int, list[int]] = {}
    for pk, path in users.values_list("pk", "ancestor_path"):
        by_depth.setdefault(path.count("/"), []).append(pk)
    for depth in sorted(by_depth, reverse=True):
        User.objects.filter(pk__in=by_depth[depth]).delete()


def _delete_deals_quietly(deals: QuerySet[Opportunity]) -> None:
    """Delete deals and every row that points at them, without a post_delete per deal.

    Receivers of Opportunity's post_delete (forecasting asks to recompute each deal's owner)
    would run once per deal after commit, for owners this reset deletes as well. Rows that
    point at the deals go first, through the ORM, so their own cascades still apply.
    """
    for relation in Opportunity._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            field_name = relation.field.m2m_reverse_field_name()
        else:
            through, field_name = relation.related_model, relation.field.name
        rows = through._base_manager.filter(**{f"{field_name}__in": deals})
        if relation.on_delete is SET_NULL:
            rows.update(**{field_name: None})
        elif relation.on_delete is not DO_NOTHING:
            # PROTECTed too: what points at a demo deal was made from demo data.
            rows.delete()
    ops = connection.ops
    table = ops.quote_name(Opportunity._meta.db_table)
    pk = ops.quote_name(Opportunity._meta.pk.column)
    sql, params = deals.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Identifiers from model metadata; the subquery is the ORM's, with its parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({sql})", params)  # noqa: S608


@transaction.atomic
def load_demo_data(
    *,
    reps: int = 24,
    opportunities: int = 600,
    seed: int = 42,
    activities_per_deal: float = 10.0,
    reset: bool = False,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Create the demo organisation unless it exists (``reset`` deletes and rebuilds it)."""
    if reps < 1 or opportunities < 0 or activities_per_deal < 0:
        raise ApplicationError("Give at least one rep and no negative counts.")
    if reset:
        delete_demo_data()
    elif demo_org_exists():
        return DemoResult(created=False, counts=demo_counts(), logins=demo_logins())
    builder = DemoDataBuilder(
        seed=seed, today=today or timezone.localdate(), progress=progress or (lambda _: None)
    )
    builder.build(reps=reps, opportunities=opportunities, activities_per_deal=activities_per_deal)
    return DemoResult(created=True, counts=builder.counts, logins=demo_logins())


class DemoDataBuilder:
    """Draws the organisation, accounts and deal histories and bulk-inserts them."""

    def __init__(self, *, seed: int, today: dt.date, progress: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data wants reproducible, not secret
        self.today = today
        self.midnight = dt.datetime.combine(
            today, dt.time(), tzinfo=timezone.get_current_timezone()
        )
        self.progress = progress
        quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        months = quarter_start.year * 12 + quarter_start.month - 1 - 3 * HISTORY_QUARTERS
        self.history_start = dt.date(months // 12, months % 12 + 1, 1)
        # Deals start a quarter before the history, so its first quarter has closings too.
        self.first_deal_t = float((self.history_start - today).days - 90)
        self.counts: dict[str, int] = {}
        self.stored_at = connection.ops.adapt_datetimefield_value

    # --- time -----------------------------------------------------------------------------

    def at(self, t: float) -> dt.datetime:
        return self.midnight + dt.timedelta(days=t)

    def db_at(self, t: float) -> object:
        """``at(t)`` as the database stores it, for rows inserted by insert_rows."""
        return self.stored_at(self.midnight + dt.timedelta(days=t))

    def day(self, t: float) -> dt.date:
        return self.today + dt.timedelta(days=math.floor(t))

    def pick(self, weighted: list[tuple[object, float]]) -> object:
        return self.rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    # --- the whole run ----------------------------------------------------------------------

    def build(self, *, reps: int, opportunities: int, activities_per_deal: float) -> None:
        self.build_reference_data()
        self.progress("Reference data: periods, exchange rates, sales processes")
        team_reps = self.build_org(reps=reps)
        self.progress(f"Organisation: {reps} reps")
        sellers = [rep for rep in team_reps if rep.user.sales_role in (SalesRole.AE, SalesRole.AM)]
        self.build_accounts(sellers=sellers, opportunities=opportunities)
        self.progress(f"Accounts: {self.counts['accounts']}")
        self.build_deals(
            sellers=sellers,
            team_reps=team_reps,
            opportunities=opportunities,
            activities_per_deal=activities_per_deal,
        )

    def build_reference_data(self) -> None:
        """Periods and rates for every day the demo touches; the two sales processes."""
        self._ensure_periods_and_rates()
        self._ensure_processes()

    def _ensure_periods_and_rates(self) -> None:
        last_day = self.today + dt.timedelta(days=200)
        for year in range(self.day(self.first_deal_t - 720).year, last_day.year + 1):
            ensure_periods(year=year)
        quarter_starts = []
        month = self.history_start.year * 12 + self.history_start.month - 1 - 6
        while dt.date(month // 12, month % 12 + 1, 1) <= self.today:
            quarter_starts.append(dt.date(month // 12, month % 12 + 1, 1))
            month += 3
        for currency, rate in START_RATES.items():
            drift = [rate]
            for _ in quarter_starts[1:]:
                drift.append(drift[-1] * (1 + self.rng.gauss(0, 0.02)))
            # A currency someone already maintains keeps its rates.
            if ExchangeRate.objects.filter(currency=currency).exists():
                continue
            for effective_on, value in zip(quarter_starts, drift, strict=True):
                set_exchange_rate(
                    currency=currency,
                    rate_to_reporting=Decimal(f"{value:.6f}"),
                    effective_on=effective_on,
                )

    def _ensure_processes(self) -> None:
        has_default = SalesProcess.objects.filter(is_default=True).exists()
        self.processes: dict[str, _Process] = {}
        for name, description, wants_default, stages in PROCESSES:
            process, created = SalesProcess.objects.get_or_create(
                name=name,
                defaults={
                    "description": description,
                    "is_default": wants_default and not has_default,
                    "requires_verification": False,
                },
            )
            if created:
                for order, (stage_name, category, milestones) in enumerate(stages, start=1):
                    stage = Stage.objects.create(
                        process=process,
                        name=stage_name,
                        order=order,
                        default_forecast_category=category,
                    )
                    Milestone.objects.bulk_create(
                        Milestone(stage=stage, name=m, evidence_required=needs, order=i)
                        for i, (m, needs) in enumerate(milestones)
                    )
            self.processes[name] = self._load_process(process)

    def _load_process(self, process: SalesProcess) -> _Process:
        stages = list(process.stages.order_by("order").prefetch_related("milestones"))
        milestones = [sorted(s.milestones.all(), key=lambda m: (m.order, m.pk)) for s in stages]
        if not stages or not all(milestones):
            raise ApplicationError(f"Sales process “{process}” needs stages with milestones.")
        specs = [
            StageSpec(s.pk, frozenset(m.pk for m in ms))
            for s, ms in zip(stages, milestones, strict=True)
        ]
        return _Process(process, specs, stages, milestones)

    # --- people -----------------------------------------------------------------------------

    def build_org(self, *, reps: int) -> list[_Rep]:
        """Executive → directors → managers → reps (about TEAM_SIZE reps per manager)."""
        self._reserve_names()
        person = self._person
        executive = person(Role.EXECUTIVE, None, login="executive")
        top = [
            executive,
            person(Role.ADMIN, None, login="admin"),
            person(Role.INTEGRATOR, None, login="integrator"),
        ]
        User.objects.bulk_create(top)

        n_managers = math.ceil(reps / TEAM_SIZE)
        n_directors = math.ceil(n_managers / MANAGERS_PER_DIRECTOR)
        regions = list(REGIONS)
        team_regions = [regions[i % len(regions)] for i in range(n_managers)]
        directors = []
        for d in range(n_directors):
            # A director is regional when all their teams are in one region.
            covered = set(team_regions[d::n_directors])
            region = covered.pop() if len(covered) == 1 else ""
            title = f"Regional Director, {region}" if region else "Sales Director"
            directors.append(person(Role.MANAGER, executive, title=title, region=region))
        User.objects.bulk_create(directors)
        managers = []
        for i, region in enumerate(team_regions):
            kind = {"login": "manager"} if i == 0 else {"title": f"Sales Manager, {region}"}
            managers.append(person(Role.MANAGER, directors[i % n_directors], region=region, **kind))
        User.objects.bulk_create(managers)

        # Each team's slot 5 is an SDR, 6 an account manager, 7 a sales engineer; the rest AEs.
        sales_roles = [TEAM_ROLES.get(i // n_managers, SalesRole.AE) for i in range(reps)]
        new_hire_slots = [i for i in range(1, reps) if sales_roles[i] == SalesRole.AE]
        n_ramping = min(len(new_hire_slots), max(1, round(reps * 0.05)))
        ramping = set(self.rng.sample(new_hire_slots, n_ramping))
        titles = {
            SalesRole.AE: "Account Executive",
            SalesRole.AM: "Account Manager",
            SalesRole.SDR: "Sales Development Rep",
            SalesRole.SE: "Solutions Engineer",
        }
        archetypes = [(name, share) for name, (share, _, _) in ARCHETYPES.items()]
        team_reps: list[_Rep] = []
        for i in range(reps):
            manager = managers[i % n_managers]
            sales_role = sales_roles[i]
            # The rep login is an opener: strong at discovery, weak at closing.
            archetype = "opener" if i == 0 else self.pick(archetypes)
            _, early, late = ARCHETYPES[archetype]
            early += self.rng.gauss(0, 0.25)
            late += self.rng.gauss(0, 0.25)
            if i in ramping:
                hire_t = -self.rng.uniform(20, RAMP_DAYS - 5)
                early, late = early - 0.6, late - 0.6
            elif self.rng.random() < 0.12:  # joined during the history window
                hire_t = -self.rng.uniform(RAMP_DAYS + 10, -self.first_deal_t)
            else:
                hire_t = -self.rng.uniform(-self.first_deal_t + 30, 2500)
            fields = {
                "sales_role": sales_role,
                "region": manager.region,
                "hire_date": self.day(hire_t),
            }
            if i == 0:
                user = person(Role.REP, manager, login="rep", **fields)
            else:
                user = person(Role.REP, manager, title=titles[sales_role], **fields)
            capacity = (0.5 if i in ramping else 1.0) * (0.8 if sales_role == SalesRole.AM else 1)
            team_reps.append(
                _Rep(user, i % n_managers, early, late, capacity, hire_t, i in ramping)
            )
        User.objects.bulk_create([rep.user for rep in team_reps])
        self.counts["users"] = len(top) + len(directors) + len(managers) + reps
        self.counts["reps"] = reps
        self.counts["ramping_reps"] = len(ramping)
        return team_reps

    def _reserve_names(self) -> None:
        taken = {u.lower() for u in User.objects.values_list("username", flat=True)}
        clash = [name for name, *_ in LOGINS if name in taken]
        if clash:
            raise ApplicationError(
                f"Usernames {', '.join(clash)} belong to people outside the demo; "
                "rename them before loading demo data."
            )
        self.taken_usernames = taken | {name for name, *_ in LOGINS}
        self.taken_emails = {e.lower() for e in User.objects.values_list("email", flat=True)}
        self.login_password = make_password(DEMO_PASSWORD)  # hashed once, shared by the logins

    def _person(self, role: str, manager: User | None, *, login: str = "", **fields) -> User:
        """A demo person (unsaved); logins get the published password, others none."""
        if login:
            _, first, last, title, _ = next(row for row in LOGINS if row[0] == login)
            username = login
        else:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            base = f"{first}.{last}".lower()
            username, n = base, 1
            while (
                username in self.taken_usernames
                or f"{username}@{EMAIL_DOMAIN}" in self.taken_emails
            ):
                n += 1
                username = f"{base}{n}"
            title = fields.pop("title")
        self.taken_usernames.add(username)
        hired = fields.pop("hire_date", None) or self.day(-self.rng.uniform(800, 3000))
        joined = dt.datetime.combine(hired, dt.time(9), tzinfo=self.midnight.tzinfo)
        return User(
            username=username,
            email=f"{username}@{EMAIL_DOMAIN}",
            first_name=first,
            last_name=last,
            title=title,
            role=role,
            manager=manager,
            ancestor_path=manager.subtree_path if manager else "/",
            hire_date=hired,
            date_joined=joined,
            created_at=joined,
            external_id=f"{DEMO_MARKER}{login or username}",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
            password=self.login_password if login else make_password(None),
            **fields,
        )

    # --- accounts ---------------------------------------------------------------------------

    def build_accounts(self, *, sellers: list[_Rep], opportunities: int) -> None:
        """About one account per four deals, owned by sellers in proportion to capacity."""
        n_accounts = max(len(sellers) * 3, opportunities // 4)
        weights = [rep.capacity for rep in sellers]
        owners = sellers + self.rng.choices(sellers, weights, k=max(0, n_accounts - len(sellers)))
        industries = list(INDUSTRIES)
        segments = [(name, share) for name, (share, *_) in SEGMENTS.items()]
        accounts, contacts = [], []
        for number, rep in enumerate(owners, start=1):
            industry = self.rng.choice(industries)
            segment = self.pick(segments)
            country, _, places = self.rng.choice(REGIONS[rep.user.region])
            low, high = SEGMENTS[segment][1]
            employees = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
            name = (
                f"{self.rng.choice(NAME_STARTS)}{self.rng.choice(NAME_ENDS)} "
                f"{self.rng.choice(INDUSTRIES[industry])}"
            )
            created = self.at(self.first_deal_t - self.rng.uniform(1, 720))
            account = Account(
                name=name,
                industry=industry,
                employee_count=employees,
                annual_revenue=Decimal(employees * self.rng.randint(120, 400) * 1000),
                country=country,
                region=rep.user.region,
                state=self.rng.choice(places),
                owner=rep.user,
                external_id=f"{DEMO_MARKER}{number}",
                created_at=created,
            )
            rep.accounts.append((account, segment))
            accounts.append(account)
        Account.objects.bulk_create(accounts, batch_size=BATCH_SIZE)
        domain_words = str.maketrans("", "", " .,")
        for account in accounts:
            domain = account.name.lower().translate(domain_words) + ".example"
            for _ in range(self.rng.randint(2, 5)):
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                contacts.append(
                    (
                        account.pk,
                        first,
                        last,
                        self.rng.choice(CONTACT_TITLES),
                        f"{first}.{last}@{domain}".lower(),
                        self.rng.choice(Contact.BuyingRole.values),
                        self.stored_at(account.created_at),
                    )
                )
        insert_rows(Contact, CONTACT_COLUMNS, contacts)
        self.counts["accounts"] = len(accounts)
        self.counts["contacts"] = len(contacts)

    # --- deals ------------------------------------------------------------------------------

    def build_deals(
        self,
        *,
        sellers: list[_Rep],
        team_reps: list[_Rep],
        opportunities: int,
        activities_per_deal: float,
    ) -> None:
        """Simulate and insert the deals in chunks, oldest first, so memory stays flat."""
        # Who owns each deal and when it starts: capacity times the share of the window employed.
        starts = [max(self.first_deal_t, rep.hire_t + 3) for rep in sellers]
        weights = [
            rep.capacity * -start / -self.first_deal_t
            for rep, start in zip(sellers, starts, strict=True)
        ]
        owner_index = self.rng.choices(range(len(sellers)), weights, k=opportunities)
        draws = sorted((self.created_t(starts[i]), i) for i in owner_index)
        by_team: dict[int, dict[str, list[User]]] = {}
        for rep in team_reps:
            by_team.setdefault(rep.team, {}).setdefault(rep.user.sales_role, []).append(rep.user)
        for key in (
            "opportunities",
            "won",
            "lost",
            "open",
            "milestone_completions",
            "opportunity_changes",
            "activities",
            "team_members",
        ):
            self.counts[key] = 0
        for first in range(0, len(draws), DEALS_PER_CHUNK):
            chunk = [
                self.simulate_deal(created_t, sellers[i], by_team.get(sellers[i].team, {}))
                for created_t, i in draws[first : first + DEALS_PER_CHUNK]
            ]
            self.insert_deals(chunk, activities_per_deal)
            self.progress(f"Opportunities: {min(first + DEALS_PER_CHUNK, len(draws))}/{len(draws)}")

    def created_t(self, start: float) -> float:
        """A start day in [start, -1]; the business grows, so later days are likelier."""
        x = math.log1p(self.rng.random() * (math.exp(GROWTH) - 1)) / GROWTH
        return start + x * (-1.0 - start)

    def pass_probability(self, rep: _Rep, index: int, n_stages: int) -> float:
        """Early stages lean on the rep's early skill, late stages on their closing skill."""
        x = index / max(n_stages - 1, 1)
        logit = _logit(0.62 + 0.25 * x) + (1 - x) * rep.early + x * rep.late
        return 1 / (1 + math.exp(-logit))

    def simulate_deal(self, created_t: float, rep: _Rep, team: dict[str, list[User]]) -> _Deal:
        """Walk a deal through its stages: pass (milestones done) or lose, slipping as it goes."""
        rng = self.rng
        account, segment = rng.choice(rep.accounts)
        _, _, median, scale = SEGMENTS[segment]
        flow = self.processes[
            "Transactional" if rng.random() < TRANSACTIONAL_SHARE[segment] else "Standard B2B"
        ]
        n = len(flow.stages)
        scale *= 0.6 if n <= 3 else 1.0
        currency = next(
            c for country, c, _ in REGIONS[account.region] if country == account.country
        )
        usd = rng.lognormvariate(math.log(median), 0.5) / START_RATES.get(currency, 1.0)
        cents = max(5, round(usd / 100)) * 10000
        deal = _Deal(
            rep=rep,
            account=account,
            flow=flow,
            created_t=created_t,
            currency=currency,
            name=f"{account.name} - {rng.choice(PRODUCTS)}",
            start_cents=cents,
            amount_cents=cents,
            team=team,
            # Reps plan optimistically, hence the slips.
            close_on=self.day(created_t + MEAN_STAGE_DAYS * scale * n * rng.uniform(0.5, 1.0)),
        )
        t, slips, close_on = created_t, 0, deal.close_on
        for i, milestones in enumerate(flow.milestones):
            deal.stage_starts.append(t)
            t_end = t + rng.gammavariate(2.0, MEAN_STAGE_DAYS * scale / 2) + 0.5
            horizon = min(t_end, 0.0)
            # The close date passes while the deal waits: the rep pushes it out (a slip).
            while (due := (close_on - self.today).days + 1.0) < horizon:
                slip_t = max(due, t) + rng.uniform(0.1, 4.0)
                if slip_t >= horizon:
                    break
                if slips == MAX_SLIPS:
                    deal.close(slip_t, Opportunity.Status.LOST, STALLED_REASON)
                    return deal
                close_on += dt.timedelta(days=rng.randint(14, 45))
                deal.events.append(
                    (slip_t, 1, OpportunityChange.Field.EXPECTED_CLOSE_ON, close_on.isoformat())
                )
                slips += 1
            self._maybe_change_amount(deal, i / max(n - 1, 1), t, horizon)
            if t_end >= 0:  # still working this stage today
                self._complete(deal, milestones, t, max(t, -0.05), rng.randrange(len(milestones)))
                return deal
            if rng.random() < self.pass_probability(rep, i, n):
                self._complete(deal, milestones, t, t_end, len(milestones))
                if i >= 2 and team.get(SalesRole.SE) and rng.random() < 0.3 and not deal.se:
                    deal.se = rng.choice(team[SalesRole.SE])
                t = t_end
            else:
                self._complete(deal, milestones, t, t_end, rng.randrange(len(milestones)))
                position = min(2, round(2 * i / max(n - 1, 1)))
                deal.close(t_end, Opportunity.Status.LOST, rng.choice(LOST_REASONS[position]))
                return deal
        deal.close(t + min(1.0, -t * rng.uniform(0.05, 0.5)), Opportunity.Status.WON, "")
        return deal

    def _complete(
        self, deal: _Deal, milestones: list[Milestone], t0: float, t1: float, count: int
    ) -> None:
        """Complete the first ``count`` milestones in order; completing all ends at ``t1``."""
        if count == 0:
            return
        times = sorted(self.rng.uniform(t0, t1) for _ in range(count))
        if count == len(milestones):
            times[-1] = t1
        deal.completions.extend(zip(times, milestones[:count], strict=True))

    def _maybe_change_amount(self, deal: _Deal, x: float, t0: float, t1: float) -> None:
        """Scope changes mid-deal, discounts late; each is a recorded amount change."""
        rng = self.rng
        if t1 <= t0:
            return
        factor = None
        if 0 < x < 0.7 and rng.random() < 0.2:
            factor = rng.uniform(0.75, 1.35)
        elif x >= 0.7 and rng.random() < 0.3:
            factor = rng.uniform(0.82, 0.97)
        if factor:
            deal.amount_cents = max(50000, round(deal.amount_cents * factor / 100) * 100)
            deal.events.append(
                (
                    rng.uniform(t0, t1),
                    1,
                    OpportunityChange.Field.AMOUNT,
                    _cents_text(deal.amount_cents),
                )
            )

    def insert_deals(self, deals: list[_Deal], activities_per_deal: float) -> None:
        rows = [deal.replay(self) for deal in deals]
        Opportunity.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        completions, changes, team = [], [], []
        for deal, row in zip(deals, rows, strict=True):
            pk, owner_id = row.pk, deal.rep.user.pk
            # Verified by the manager where the process has exit criteria with teeth.
            review = (
                (MilestoneCompletion.Verification.VERIFIED, deal.rep.user.manager_id)
                if deal.flow.process.requires_verification
                else (MilestoneCompletion.Verification.NOT_REQUIRED, None)
            )
            for t, milestone in deal.completions:
                at = self.db_at(t)
                evidence = (
                    f"Notes {self.day(t)}: {milestone.name.lower()}"
                    if milestone.evidence_required
                    else ""
                )
                completions.append(
                    (pk, milestone.pk, owner_id, at, evidence, review[0], review[1],
                     at if review[1] else None, at)
                )  # fmt: skip
            stamps: dict[float, object] = {}  # most changes share a moment with another
            for t, name, old, new in deal.changes:
                at = stamps.get(t) or stamps.setdefault(t, self.db_at(t))
                changes.append((pk, name, old, new, owner_id, at))
            if deal.se:
                team.append((pk, deal.se.pk, "Sales engineer", self.db_at(deal.stage_starts[2])))
            self.counts[deal.status] += 1
        activities = self.build_activities(deals, rows, activities_per_deal)
        for model, columns, values, key in (
            (MilestoneCompletion, COMPLETION_COLUMNS, completions, "milestone_completions"),
            (OpportunityChange, CHANGE_COLUMNS, changes, "opportunity_changes"),
            (OpportunityTeamMember, TEAM_COLUMNS, team, "team_members"),
            (Activity, ACTIVITY_COLUMNS, activities, "activities"),
        ):
            insert_rows(model, columns, values)
            self.counts[key] += len(values)
        self.counts["opportunities"] += len(rows)

    def build_activities(
        self, deals: list[_Deal], rows: list[Opportunity], per_deal: float
    ) -> list[tuple]:
        """About ``per_deal`` activities a deal on average, more for deals that went further."""
        rng = self.rng
        weights = [1 + len(deal.stage_starts) for deal in deals]
        mean = sum(weights) / len(weights) if weights else 1
        activities = []
        for deal, row, weight in zip(deals, rows, weights, strict=True):
            n = round(per_deal * weight / mean * rng.uniform(0.5, 1.5))
            end_t = deal.closed_t if deal.closed_t is not None else -0.01
            sdrs = deal.team.get(SalesRole.SDR) if deal.team else None
            n_stages = len(deal.flow.stages)
            for k in range(n):
                planned = deal.closed_t is None and k == n - 1 and rng.random() < 0.5
                t = rng.uniform(0.1, 14) if planned else rng.uniform(deal.created_t, end_t)
                index = max(0, bisect.bisect_right(deal.stage_starts, t) - 1)
                position = min(2, round(2 * index / max(n_stages - 1, 1)))
                kind = self.pick(ACTIVITY_KINDS[position])
                owner = deal.rep.user
                if kind == Activity.Kind.DEMO and deal.se:
                    owner = deal.se
                elif index == 0 and sdrs and rng.random() < 0.3:
                    owner = rng.choice(sdrs)
                milestone = rng.choice(deal.flow.milestones[index]) if rng.random() < 0.25 else None
                activities.append(
                    (
                        kind,
                        owner.pk,
                        deal.account.pk,
                        row.pk,
                        milestone.pk if milestone else None,
                        self.db_at(t),
                        self._duration(kind),
                        Activity.Outcome.PLANNED if planned else self._outcome(kind, deal),
                        rng.choice(ACTIVITY_NOTES[kind]),
                        rng.choice(NEXT_STEPS) if rng.random() < 0.2 else "",
                        self.db_at(min(t, 0.0)),
                    )
                )
        return activities

    def _duration(self, kind: str) -> int:
        if kind == Activity.Kind.CALL:
            return self.rng.randint(5, 30)
        if kind in (Activity.Kind.MEETING, Activity.Kind.DEMO):
            return self.rng.choice((30, 45, 60, 90))
        return 0

    def _outcome(self, kind: str, deal: _Deal) -> str:
        if kind == Activity.Kind.CALL:
            return self.rng.choice(
                (
                    Activity.Outcome.CONNECTED,
                    Activity.Outcome.NO_ANSWER,
                    Activity.Outcome.LEFT_MESSAGE,
                )
            )
        if kind in (Activity.Kind.MEETING, Activity.Kind.DEMO):
            negative = 0.5 if deal.status == Opportunity.Status.LOST else 0.2
            return (
                Activity.Outcome.NEGATIVE
                if self.rng.random() < negative
                else Activity.Outcome.POSITIVE
            )
        return ""


@dataclass
class _Deal:
    """One simulated deal: its draws, then (``replay``) its row and its change history."""

    rep: _Rep
    account: Account
    flow: _Process
    created_t: float
    currency: str
    name: str
    start_cents: int
    amount_cents: int
    close_on: dt.date
    status: str = Opportunity.Status.OPEN
    closed_t: float | None = None
    lost_reason: str = ""
    se: User | None = None
    team: dict[str, list[User]] | None = None
    stage_starts: list[float] = field(default_factory=list)
    completions: list[tuple[float, Milestone]] = field(default_factory=list)
    # (t, priority, field, new value): priority 0 (stage moves) sorts before 1 at equal times.
    events: list[tuple[float, int, str, str]] = field(default_factory=list)
    changes: list[tuple[float, str, str, str]] = field(default_factory=list)

    def close(self, t: float, status: str, reason: str) -> None:
        self.status, self.closed_t, self.lost_reason = status, t, reason

    def replay(self, builder: DemoDataBuilder) -> Opportunity:
        """Turn the events into change rows (old → new) and the deal's final row."""
        F = OpportunityChange.Field
        categories = {s.pk: s.default_forecast_category for s in self.flow.stages}
        first_stage = derive_stage_id(self.flow.specs, ())
        # stage moves (and the rep following with the stage's forecast category)
        done: set[int] = set()
        stage_id, stage_t = first_stage, self.created_t
        events = list(self.events)
        for t, milestone in sorted(self.completions, key=lambda c: c[0]):
            done.add(milestone.pk)
            derived = derive_stage_id(self.flow.specs, done)
            if derived != stage_id:
                stage_id, stage_t = derived, t
                events.append((t, 0, F.STAGE, str(derived)))
                events.append((t, 0, F.FORECAST_CATEGORY, categories[derived]))
        if self.closed_t is not None:
            events.append((self.closed_t, 1, F.STATUS, self.status))
            events.append((self.closed_t, 1, F.CLOSED_ON, builder.day(self.closed_t).isoformat()))
        created = {
            F.AMOUNT: _cents_text(self.start_cents),
            F.CURRENCY: self.currency,
            F.EXPECTED_CLOSE_ON: self.close_on.isoformat(),
            F.STAGE: str(first_stage),
            F.FORECAST_CATEGORY: categories[first_stage],
            F.OWNER: str(self.rep.user.pk),
            F.STATUS: Opportunity.Status.OPEN,
            F.CLOSED_ON: "",
        }
        # Creation logs every field, empty ones too (as accounts.services does).
        self.changes = [(self.created_t, name, "", value) for name, value in created.items()]
        state = dict(created)
        writes = set()
        for t, _, name, value in sorted(events, key=lambda e: (e[0], e[1])):
            if state[name] != value:
                self.changes.append((t, name, state[name], value))
                state[name] = value
                writes.add(t)
        closed_on = builder.day(self.closed_t) if self.closed_t is not None else None
        return Opportunity(
            account_id=self.account.pk,
            owner_id=self.rep.user.pk,
            process_id=self.flow.process.pk,
            stage_id=stage_id,
            stage_entered_at=builder.at(stage_t),
            name=self.name,
            amount=Decimal(state[F.AMOUNT]),
            currency=self.currency,
            expected_close_on=dt.date.fromisoformat(state[F.EXPECTED_CLOSE_ON]),
            status=self.status,
            closed_on=closed_on,
            lost_reason=self.lost_reason,
            forecast_category=state[F.FORECAST_CATEGORY],
            next_step=builder.rng.choice(NEXT_STEPS) if self.closed_t is None else "",
            version=1 + len(writes),
            created_at=builder.at(self.created_t),
        )
