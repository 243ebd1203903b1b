"""Demo people: the executive → director → manager → rep hierarchy and the demo logins."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db.models import QuerySet

from accounts.models import Account
from salesmgmt.errors import ApplicationError
from salesmgmt.models import Role, SalesRole, User

from .vocabulary import (
    ARCHETYPES,
    DEMO_MARKER,
    DEMO_PASSWORD,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    GEO_OF_REGION,
    LAST_NAMES,
    LOGINS,
    MANAGERS_PER_DIRECTOR,
    RAMP_DAYS,
    REGIONS,
    TEAM_ROLES,
    TEAM_SIZE,
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    name: str
    reports_to: str


@dataclass
class _Rep:
    user: User
    team: int
    early: float
    late: float
    capacity: float
    hire_t: float
    is_ramping: bool
    segment: str = ""  # a seller's segment (smb, mid_market, enterprise); set with the accounts
    accounts: list[tuple[Account, str]] = field(default_factory=list)  # with its segment


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


class OrgMixin:
    """DemoDataBuilder's people: draws the hierarchy and bulk-inserts it."""

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
        regions = list(REGIONS)
        team_regions = [regions[i % len(regions)] for i in range(n_managers)]
        # Each geography (Americas, EMEA, APAC) is a chain of its own: its directors report to
        # the executive and lead only that geography's teams, at most MANAGERS_PER_DIRECTOR each.
        geo_teams: dict[str, list[int]] = {}
        for i, region in enumerate(team_regions):
            geo_teams.setdefault(GEO_OF_REGION[region], []).append(i)
        directors, director_of = [], {}
        for geo, teams in geo_teams.items():
            n_directors = math.ceil(len(teams) / MANAGERS_PER_DIRECTOR)
            for d in range(n_directors):
                title = f"Regional VP, {geo}" if n_directors == 1 else f"Sales Director, {geo}"
                directors.append(person(Role.MANAGER, executive, title=title, region=geo))
                for i in teams[d::n_directors]:
                    director_of[i] = directors[-1]
        User.objects.bulk_create(directors)
        managers = []
        for i, region in enumerate(team_regions):
            kind = {"login": "manager"} if i == 0 else {"title": f"Sales Manager, {region}"}
            managers.append(person(Role.MANAGER, director_of[i], region=region, **kind))
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
