"""A small threaded HTTP driver for the fault scenarios: steady traffic with every outcome kept.

Locust aggregates; a fault scenario needs each response with its time, status and body to
judge what happened during an outage, so this driver records them all. Page threads are
logged-in reps logging calls from their home page; API threads are integrations that sync,
create their own deals and then edit them conditionally (If-Match).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from scripts.ops.forms import page_forms
from scripts.ops.stack import BASE_URL

TIMEOUT = 30
# The kind of a conditional edit sent after an edit of the same deal got no clear answer.
UNSURE_EDIT = "api PATCH opportunity after an unclear answer"


@dataclass
class Outcome:
    at: float  # monotonic seconds
    kind: str
    status: int  # 0: no HTTP response (connection refused, timeout)
    body: str = ""
    content_type: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400


@dataclass
class Driver:
    plan: dict
    page_threads: int = 4
    api_threads: int = 2
    close_on: dt.date = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    )
    outcomes: list[Outcome] = field(default_factory=list)
    writes: list[dict] = field(default_factory=list)
    deals: dict[int, dict] = field(default_factory=dict)  # created here: id -> last confirmed

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.unsure: set[int] = set()  # deals whose last edit got no clear answer
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    # --- bookkeeping ---------------------------------------------------------------------

    def _record(self, kind: str, response: requests.Response | None, error: str = "") -> None:
        outcome = Outcome(
            at=time.monotonic(),
            kind=kind,
            status=response.status_code if response is not None else 0,
            body=response.text[:2000] if response is not None else "",
            content_type=response.headers.get("Content-Type", "") if response is not None else "",
            error=error,
        )
        with self.lock:
            self.outcomes.append(outcome)

    def _call(self, kind: str, session: requests.Session, method: str, url: str, **kwargs):
        try:
            response = session.request(method, BASE_URL + url, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as error:
            self._record(kind, None, f"{type(error).__name__}: {error}"[:300])
            return None
        self._record(kind, response)
        return response

    def _confirm(self, kind: str, **fields: object) -> None:
        with self.lock:
            self.writes.append({"kind": kind, **fields})

    # --- the people ----------------------------------------------------------------------

    def login(self, username: str) -> requests.Session:
        session = requests.Session()
        session.get(f"{BASE_URL}/login/", timeout=TIMEOUT)
        response = session.post(
            f"{BASE_URL}/login/",
            data={
                "username": username,
                "password": self.plan["password"],
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        if response.status_code != 302:
            raise RuntimeError(f"log-in as {username} failed: {response.status_code}")
        return session

    def _rep_loop(self, session: requests.Session) -> None:
        while not self.stop.is_set():
            response = self._call("page GET /my/", session, "GET", "/my/")
            logs = []
            if response is not None and response.status_code == 200:
                logs = [
                    f
                    for f in page_forms(response.text)
                    if f.action == "/activities/log/" and f.fields.get("opportunity")
                ]
            if logs:
                form = random.choice(logs)  # noqa: S311 - traffic mix, not security
                note = f"load-{uuid.uuid4().hex}"
                data = {
                    **form.fields,
                    "kind": "call",
                    "outcome": "",
                    "notes": note,
                    "next_step": "",
                    "duration_minutes": "10",
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
                }
                posted = self._call(
                    "page POST /activities/log/",
                    session,
                    "POST",
                    "/activities/log/",
                    data=data,
                    allow_redirects=False,
                )
                if posted is not None and posted.status_code == 302:
                    self._confirm("activity", marker=note)
            self.stop.wait(0.3)

    def _api_loop(self, token: str) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat()
        seen: list[dict] = []
        mine: dict[int, int] = {}
        step = 0
        while not self.stop.is_set():
            step += 1
            if step % 3 == 1 or not seen:
                # Open deals first (to create and log against), then incremental syncs.
                params = {"updated_since": since, "page_size": 50} if seen else {"status": "open"}
                response = self._call(
                    "api GET opportunities", session, "GET", "/api/v1/opportunities/", params=params
                )
                if response is not None and response.status_code == 200:
                    rows = [r for r in response.json()["results"] if r["status"] == "open"]
                    seen = rows or seen
            elif (len(mine) < 3 or step % 5 == 0) and seen:
                self._create_deal(session, random.choice(seen), mine)  # noqa: S311
            elif mine:
                self._edit_deal(session, random.choice(list(mine)), mine)  # noqa: S311
            self.stop.wait(0.3)

    def _create_deal(self, session: requests.Session, model: dict, mine: dict) -> None:
        name = f"Load load-{uuid.uuid4().hex}"
        response = self._call(
            "api POST opportunities",
            session,
            "POST",
            "/api/v1/opportunities/",
            json={
                "name": name,
                "account": model["account"]["id"],
                "owner": model["owner"]["id"],
                "amount": "10000.00",
                "currency": "USD",
                "expected_close_on": self.close_on.isoformat(),
            },
            headers={"Idempotency-Key": name},
        )
        if response is not None and response.status_code == 201:
            body = response.json()
            mine[body["id"]] = body["version"]
            self._confirm("deal_create", marker=name, opportunity=body["id"])
            with self.lock:
                self.deals[body["id"]] = {"amount": "10000.00", "at": time.monotonic()}

    def _edit_deal(self, session: requests.Session, pk: int, mine: dict) -> None:
        name = f"Load load-{uuid.uuid4().hex}"
        amount = f"{random.randint(1000, 99000)}.00"  # noqa: S311
        # An edit answered with an error may still have committed (the database died between
        # its commit and the reply): the next conditional edit then gets 412, as it should.
        unsure = pk in self.unsure
        self._confirm("deal_update_attempt", marker=name, opportunity=pk, amount=amount)
        response = self._call(
            UNSURE_EDIT if unsure else "api PATCH opportunity",
            session,
            "PATCH",
            f"/api/v1/opportunities/{pk}/",
            json={"name": name, "amount": amount},
            headers={"If-Match": f'"{mine[pk]}"'},
        )
        status = response.status_code if response is not None else 0
        if status == 200:
            mine[pk] = response.json()["version"]
            self.unsure.discard(pk)
            self._confirm("deal_update", marker=name, opportunity=pk, amount=amount)
            with self.lock:
                self.deals[pk] = {"amount": amount, "at": time.monotonic()}
        elif status == 412 and unsure:
            # What a careful integration does: read the deal again, carry on from its version.
            fresh = self._call(
                "api GET opportunity", session, "GET", f"/api/v1/opportunities/{pk}/"
            )
            if fresh is not None and fresh.status_code == 200:
                mine[pk] = fresh.json()["version"]
                self.unsure.discard(pk)
        elif status == 412:
            mine.pop(pk)  # a stale version with no unsure edit before it: counted as a failure
        else:
            self.unsure.add(pk)

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        reps = self.plan["reps"]
        sessions = [self.login(reps[i % len(reps)]) for i in range(self.page_threads)]
        for session in sessions:
            self.threads.append(threading.Thread(target=self._rep_loop, args=(session,)))
        for i in range(self.api_threads):
            token = self.plan["tokens"][-(i + 1)]
            self.threads.append(threading.Thread(target=self._api_loop, args=(token,)))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=TIMEOUT + 5)

    def between(self, start: float, end: float) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if start <= o.at < end]
