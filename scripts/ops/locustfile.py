"""The load mix: reps log calls and complete milestones, managers open their dashboards,
executives the rollup, integrators sync through the API.

Run by scripts/ops/load.py (``locust -f scripts/ops/locustfile.py --headless ...``) with
OPS_PLAN (log-ins and tokens, from provision.py) and OPS_WRITES (a JSON-lines file). Every
write carries a unique ``load-<uuid>`` marker and is appended to OPS_WRITES only once the
server confirmed it (a redirect after a form post, 201/200 from the API), so afterwards
verify.py can prove each confirmed write is in the database exactly once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
import threading
import time
import uuid

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

from scripts.ops.forms import opportunity_links, page_forms

PLAN = json.loads(open(os.environ["OPS_PLAN"]).read())  # noqa: SIM115 - read once at import
_writes = open(os.environ["OPS_WRITES"], "a")  # noqa: SIM115 - open for the whole run
_writes_lock = threading.Lock()
_counters = {role: itertools.count() for role in ("rep", "manager", "executive", "token")}
# Seconds between two actions of one person (reading the page, typing): OPS_THINK="min,max".
THINK = between(*(float(x) for x in os.environ.get("OPS_THINK", "2,8").split(",")))
# A PATCH refused with 412 (the deal changed since it was read) is read again and retried.
PATCH_ATTEMPTS = 3
COMPLETE = re.compile(r"^/opportunities/(\d+)/milestones/(\d+)/complete/$")


# (name, started at, ms, succeeded, method)
_timings: list[tuple[str, float, float, bool, str]] = []
_spawned_at: list[float] = []


@events.request.add_listener
def _on_request(
    request_type: str, name: str, response_time: float, exception: object, **kwargs: object
) -> None:
    started = time.time() - response_time / 1000
    _timings.append((name, started, response_time, exception is None, request_type))


@events.spawning_complete.add_listener
def _on_spawned(**kwargs: object) -> None:
    _spawned_at.append(time.time())


@events.test_stop.add_listener
def _on_stop(**kwargs: object) -> None:
    """Every response time, for percentiles locust does not give (steady state, no log-in)."""
    if os.environ.get("OPS_TIMINGS"):
        with open(os.environ["OPS_TIMINGS"], "w") as handle:
            json.dump({"spawned_at": _spawned_at[:1], "requests": _timings}, handle)


def marker() -> str:
    return f"load-{uuid.uuid4().hex}"


def confirmed(kind: str, **fields: object) -> None:
    """Record a write the server confirmed (one JSON line, flushed at once)."""
    line = json.dumps({"kind": kind, **fields})
    with _writes_lock:
        _writes.write(line + "\n")
        _writes.flush()


def _next(role: str, people: list[str]) -> str:
    return people[next(_counters[role]) % len(people)]


def _cookie(client, name: str) -> str:
    return next((cookie.value or "" for cookie in client.cookiejar if cookie.name == name), "")


def _snippet(response) -> str:
    return f"{response.status_code}: {response.text[:200]!r}"


class PersonUser(FastHttpUser):
    """A person using the pages: logs in once through /login/ like a browser.

    FastHttpUser (geventhttpclient), not HttpUser (requests): on the one box the load test
    runs on, every millisecond of CPU the load generator spends is taken from the server
    under test; this client spends a fraction of it per request.
    """

    abstract = True
    wait_time = THINK
    role = ""
    people_key = ""

    def on_start(self) -> None:
        self.username = _next(self.role, PLAN[self.people_key])
        self.client.get("/login/", name="/login/ [form]")
        token = _cookie(self.client, "csrftoken")
        with self.client.post(
            "/login/",
            data={
                "username": self.username,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": token,
            },
            allow_redirects=False,
            catch_response=True,
            name="/login/",
        ) as response:
            if response.status_code != 302:
                response.failure(f"log-in as {self.username} refused: {_snippet(response)}")

    def post_form(self, action: str, data: dict, name: str):
        data = {**data, "csrfmiddlewaretoken": _cookie(self.client, "csrftoken")}
        return self.client.post(
            action, data=data, allow_redirects=False, catch_response=True, name=name
        )


class RepUser(PersonUser):
    """A seller working their deals from their home page."""

    weight = 5
    role = "rep"
    people_key = "reps"

    def home_forms(self):
        response = self.client.get("/my/", name="/my/")
        if response.status_code != 200:
            return [], []
        return page_forms(response.text), opportunity_links(response.text)

    @task(3)
    def log_call(self) -> None:
        forms, _ = self.home_forms()
        logs = [f for f in forms if f.action == "/activities/log/" and f.fields.get("opportunity")]
        if not logs:
            return
        form = random.choice(logs)  # noqa: S311 - load mix, not security
        note = marker()
        data = {
            **form.fields,
            "kind": "call",
            "outcome": "",
            "notes": note,
            "next_step": "",
            "duration_minutes": "15",
        }
        with self.post_form(form.action, data, "/activities/log/") as response:
            if response.status_code == 302:
                confirmed("activity", marker=note, opportunity=int(form.fields["opportunity"]))
            else:
                response.failure(f"log call: {_snippet(response)}")

    @task(1)
    def complete_milestone(self) -> None:
        forms, _ = self.home_forms()
        completes = [f for f in forms if COMPLETE.match(f.action)]
        if not completes:
            return
        form = random.choice(completes)  # noqa: S311
        evidence = marker()
        data = {**form.fields, "evidence": evidence, "note": "load test"}
        name = "/opportunities/[id]/milestones/[id]/complete/"
        with self.post_form(form.action, data, name) as response:
            if response.status_code == 302:
                deal, milestone = COMPLETE.match(form.action).groups()
                confirmed(
                    "completion", marker=evidence, opportunity=int(deal), milestone=int(milestone)
                )
            else:
                response.failure(f"complete milestone: {_snippet(response)}")

    @task(2)
    def open_deal(self) -> None:
        _, deals = self.home_forms()
        if deals:
            pk = random.choice(deals)  # noqa: S311
            self.client.get(f"/opportunities/{pk}/", name="/opportunities/[id]/")

    @task(1)
    def deal_list(self) -> None:
        self.client.get("/opportunities/", name="/opportunities/")


class ManagerUser(PersonUser):
    """A first-line manager: team dashboard, deal reviews, the team's pipeline."""

    weight = 2
    role = "manager"
    people_key = "managers"

    @task(3)
    def team_dashboard(self) -> None:
        self.client.get("/coaching/", name="/coaching/")

    @task(2)
    def pipeline(self) -> None:
        response = self.client.get("/opportunities/", name="/opportunities/")
        deals = opportunity_links(response.text) if response.status_code == 200 else []
        if deals:
            pk = random.choice(deals)  # noqa: S311
            self.client.get(f"/opportunities/{pk}/", name="/opportunities/[id]/")

    @task(1)
    def account_reviews(self) -> None:
        self.client.get("/coaching/reviews/", name="/coaching/reviews/")

    @task(1)
    def accounts(self) -> None:
        self.client.get("/accounts/", name="/accounts/")


class ExecutiveUser(PersonUser):
    """The executive: the organisation's rollup and the forecast."""

    weight = 1
    role = "executive"
    people_key = "executives"

    @task(2)
    def rollup(self) -> None:
        self.client.get("/coaching/executive/", name="/coaching/executive/")

    @task(1)
    def forecast(self) -> None:
        self.client.get("/forecast/", name="/forecast/")


class IntegratorUser(FastHttpUser):
    """A CRM integration: incremental sync by cursor, creates and conditional updates."""

    weight = 2
    wait_time = THINK

    def on_start(self) -> None:
        self.client.auth_header = f"Token {_next('token', PLAN['tokens'])}"
        # A first import of open deals (a numbered page), then incremental syncs from now on.
        since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        self.since = since.isoformat()
        self.mine: dict[int, int] = {}  # deals this integration created: id -> version
        response = self.client.get(
            "/api/v1/opportunities/",
            params={"status": "open", "page_size": 100},
            name="/api/v1/opportunities/?status=open",
        )
        self.seen: list[dict] = response.json()["results"] if response.status_code == 200 else []

    @task(4)
    def sync(self) -> None:
        url, params = "/api/v1/opportunities/", {"updated_since": self.since, "page_size": 100}
        for _ in range(3):  # a few cursor pages per sync round
            response = self.client.get(
                url, params=params, name="/api/v1/opportunities/?updated_since"
            )
            params = None  # the next link carries the cursor
            if response.status_code != 200:
                return
            body = response.json()
            rows = body["results"]
            if rows:
                self.seen = [row for row in rows if row["status"] == "open"] or self.seen
            url = body.get("next")
            if not url:
                return

    @task(1)
    def create_activity(self) -> None:
        if not self.seen:
            return
        deal = random.choice(self.seen)  # noqa: S311
        note = marker()
        with self.client.post(
            "/api/v1/activities/",
            json={"kind": "call", "opportunity": deal["id"], "notes": note, "duration_minutes": 5},
            headers={"Idempotency-Key": note},
            catch_response=True,
            name="/api/v1/activities/",
        ) as response:
            if response.status_code == 201:
                confirmed("activity", marker=note, opportunity=deal["id"])
            else:
                response.failure(f"API activity: {_snippet(response)}")

    @task(1)
    def create_deal(self) -> None:
        if not self.seen:
            return
        model = random.choice(self.seen)  # noqa: S311
        name = f"Load {marker()}"
        close_on = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=random.randint(20, 80))  # noqa: S311
        with self.client.post(
            "/api/v1/opportunities/",
            json={
                "name": name,
                "account": model["account"]["id"],
                "owner": model["owner"]["id"],
                "amount": "12500.00",
                "currency": "USD",
                "expected_close_on": close_on.isoformat(),
            },
            headers={"Idempotency-Key": name},
            catch_response=True,
            name="/api/v1/opportunities/ [create]",
        ) as response:
            if response.status_code == 201:
                body = response.json()
                self.mine[body["id"]] = body["version"]
                confirmed("deal_create", marker=name, opportunity=body["id"])
            else:
                response.failure(f"API create: {_snippet(response)}")

    @task(1)
    def update_deal(self) -> None:
        if not self.mine:
            return
        pk = random.choice(list(self.mine))  # noqa: S311
        name = f"Load {marker()}"
        amount = f"{random.randint(1000, 90000)}.00"  # noqa: S311
        # Sent before the answer: an edit whose answer never came may still hold (verify.py).
        confirmed("deal_update_attempt", marker=name, opportunity=pk, amount=amount)
        for attempt in range(1, PATCH_ATTEMPTS + 1):
            with self.client.patch(
                f"/api/v1/opportunities/{pk}/",
                json={"name": name, "amount": amount},
                headers={"If-Match": f'"{self.mine[pk]}"'},
                catch_response=True,
                name="/api/v1/opportunities/[id]/ [update]",
            ) as response:
                if response.status_code == 200:
                    self.mine[pk] = response.json()["version"]
                    confirmed("deal_update", marker=name, opportunity=pk, amount=amount)
                    return
                if response.status_code != 412 or attempt == PATCH_ATTEMPTS:
                    response.failure(f"API update (attempt {attempt}): {_snippet(response)}")
                    return
                # Someone changed the deal since we read it (a rep logged a call on it, its
                # figures moved): the correct answer, which a careful integration meets by
                # reading the deal again and retrying on its new version. Not an error.
                response.success()
            if not self.refetch(pk):
                return

    def refetch(self, pk: int) -> bool:
        """Read the deal again for its current version (the ETag); False if that failed."""
        with self.client.get(
            f"/api/v1/opportunities/{pk}/",
            catch_response=True,
            name="/api/v1/opportunities/[id]/ [refetch]",
        ) as response:
            if response.status_code != 200:
                response.failure(f"API refetch: {_snippet(response)}")
                return False
            self.mine[pk] = response.json()["version"]  # the version is the deal's ETag
            return True
