"""Sending one sweep request as one persona, and the invariants checked around it.

Each request runs in a savepoint that is rolled back afterwards, so every case meets the same
world; the on-commit work of an accepted write (imports, webhooks, recomputes) runs inside the
savepoint first, so what it does is checked too. Around each write:

- *nothing changed* (for refused requests): a digest of every table's rows;
- *reassignment*: an account's or deal's owner changes only by someone who manages the old
  owner, an executive, an admin or an integrator;
- *privilege*: a person's role, staff or superuser flag changes only by an admin person
  signed in (never through a token);
- *webhook addresses*: no subscription is saved for a loopback, private, link-local or
  metadata address, and the app opens no socket at all (outbound calls are refused here and
  recorded).
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Account, Opportunity
from salesmgmt import services
from salesmgmt.models import ApiToken, AuditEvent, Role, TOTPDevice, User, WebhookSubscription
from salesmgmt.visibility import manages

from .world import World, team_of

# Rows that change on every authenticated request, whoever makes it: not a write by the caller.
VOLATILE_COLUMNS = {ApiToken._meta.db_table: {"last_used_at"}}
VOLATILE_TABLES = {"django_session"}
# Writes a refused request may make: the security log of a refused attempt (wrong codes count
# towards a lockout), and the pending device the two-factor setup page starts on every visit.
REFUSAL_MAY_WRITE = {AuditEvent._meta.db_table}
PAGE_MAY_WRITE = {
    "/settings/two-factor/setup/": {TOTPDevice._meta.db_table},
    "/login/two-factor-setup/": {TOTPDevice._meta.db_table},
}
ANONYMOUS = "anonymous"
SESSION, TOKEN = "session", "token"


@dataclass
class Outcome:
    status: int
    location: str
    content: bytes
    problems: list[str] = field(default_factory=list)
    changed_tables: list[str] = field(default_factory=list)


def _columns() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        tables = [
            t for t in connection.introspection.table_names(cursor) if t not in VOLATILE_TABLES
        ]
        found = {}
        for table in tables:
            described = connection.introspection.get_table_description(cursor, table)
            skip = VOLATILE_COLUMNS.get(table, set())
            found[table] = [c.name for c in described if c.name not in skip]
    return found


_COLUMNS: dict[str, list[str]] | None = None


def table_digests() -> dict[str, str]:
    """Table -> a digest of all its rows (order-independent)."""
    global _COLUMNS
    if _COLUMNS is None:
        _COLUMNS = _columns()
    qn = connection.ops.quote_name
    digests = {}
    with connection.cursor() as cursor:
        for table, columns in _COLUMNS.items():
            cursor.execute(f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            digests[table] = hashlib.blake2b("\n".join(rows).encode(), digest_size=16).hexdigest()
    return digests


def _owners() -> dict[tuple[str, int], int]:
    return {
        (model.__name__, pk): owner
        for model in (Account, Opportunity)
        for pk, owner in model.objects.values_list("pk", "owner_id")
    }


def _privileges() -> dict[int, tuple]:
    return {
        row[0]: row[1:]
        for row in User.objects.values_list("pk", "role", "is_staff", "is_superuser")
    }


def _webhook_urls() -> dict[int, str]:
    return dict(WebhookSubscription.objects.values_list("pk", "url"))


def is_internal_address(url: str) -> bool:
    """Loopback, private, link-local, reserved or metadata hosts (literal or by name)."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host in ("localhost", "metadata.google.internal") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # integer or dotted-octal forms the resolver accepts (http://2130706433/)
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


class OutboundRecorder:
    """Refuses every outbound connection the app attempts, remembering where it went."""

    def __init__(self) -> None:
        self.attempts: list[object] = []

    def connect(self, sock, address):
        self.attempts.append(address)
        raise ConnectionRefusedError("the sweeps allow no outbound connections")


@contextmanager
def outbound_refused():
    recorder = OutboundRecorder()
    original, original_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock, address):
        return recorder.connect(sock, address)

    def connect_ex(sock, address):
        recorder.attempts.append(address)
        return 111

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    try:
        yield recorder
    finally:
        socket.socket.connect, socket.socket.connect_ex = original, original_ex


def run_on_commit_since(start: int) -> list[str]:
    """Run the on-commit callbacks registered since ``start`` (as a commit would), in order."""
    problems = []
    while True:
        count = len(connection.run_on_commit)
        for _, callback, robust in connection.run_on_commit[start:count]:
            try:
                callback()
            except Exception as exc:  # a non-robust callback failing is the request's failure
                if not robust:
                    problems.append(f"on-commit work raised {type(exc).__name__}: {exc}"[:300])
        if count == len(connection.run_on_commit):
            return problems
        start = count


def _changed_rows(before: dict, after: dict) -> list[str]:
    changed = [key for key in before if before[key] != after.get(key)]
    if not changed:
        return []
    fields = sorted(
        {
            f
            for key in changed
            if key in after
            for f in before[key]
            if before[key][f] != after[key][f]
        }
    )
    return [f"changed another team's records {changed} (fields {fields})"]


def can_reassign(actor: User, old_owner_id: int) -> bool:
    if actor.role in (Role.EXECUTIVE, Role.ADMIN, Role.INTEGRATOR) or actor.is_superuser:
        return True
    old_owner = User.objects.get(pk=old_owner_id)
    return manages(actor, old_owner)


class Prober:
    """Clients for every persona (pages: signed in; API: a read-write token each)."""

    def __init__(self, personas: dict[str, User], world: World) -> None:
        self.personas = personas
        self.world = world
        # A view that raises answers 500 here, as it would in production (and the sweep goes on).
        self.page_clients: dict[str, Client] = {ANONYMOUS: Client(raise_request_exception=False)}
        self.api_clients: dict[str, APIClient] = {
            ANONYMOUS: APIClient(raise_request_exception=False)
        }
        for name, user in personas.items():
            client = Client(raise_request_exception=False)
            client.force_login(user)
            self.page_clients[name] = client
            _, key = services.api_token_create(
                user=user, name="sweep", scope=ApiToken.Scope.READ_WRITE
            )
            api = APIClient(raise_request_exception=False)
            api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            self.api_clients[name] = api
        self.outbound: OutboundRecorder | None = None
        self._baseline: dict[str, str] | None = None
        self._guarded_sql: dict[str, list[tuple[str, str, tuple]]] = {}

    def send(
        self,
        persona: str,
        kind: str,
        method: str,
        url: str,
        *,
        body: object = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        compare_tables: bool = False,
    ) -> Outcome:
        """One request in a rolled-back savepoint, with the write invariants checked."""
        is_write = method != "GET"
        client = (self.api_clients if kind == "api" else self.page_clients)[persona]
        with transaction.atomic():
            # Every case is rolled back, so the tables before any case are the tables before
            # this one: digested once.
            if compare_tables and self._baseline is None:
                self._baseline = table_digests()
            if is_write:
                owners, privileges, hooks = _owners(), _privileges(), _webhook_urls()
                guarded = self._guarded(persona)
            attempts_before = len(self.outbound.attempts) if self.outbound else 0
            start = len(connection.run_on_commit)
            cookies = copy.deepcopy(client.cookies)
            response = self._request(client, kind, method, url, body, raw, content_type)
            # A log-out or log-in case must not change who the next case is (the rollback
            # restores the session rows; the cookie is the client's).
            client.cookies = cookies
            outcome = Outcome(
                response.status_code,
                response.get("Location", ""),
                b"".join(response.streaming_content) if response.streaming else response.content,
            )
            if is_write and outcome.status < 400:
                outcome.problems += run_on_commit_since(start)
            if is_write:
                outcome.problems += self._check_writes(persona, kind, owners, privileges, hooks)
                outcome.problems += _changed_rows(guarded, self._guarded(persona))
            if self.outbound and len(self.outbound.attempts) > attempts_before:
                outcome.problems.append(
                    f"opened outbound connections: {self.outbound.attempts[attempts_before:]}"
                )
            if compare_tables:
                after, before = table_digests(), self._baseline
                allowed = REFUSAL_MAY_WRITE | PAGE_MAY_WRITE.get(url, set())
                outcome.changed_tables = sorted(
                    t for t in before if before[t] != after.get(t) and t not in allowed
                )
            transaction.set_rollback(True)
        return outcome

    def _guarded(self, persona: str) -> dict[tuple[str, int], dict]:
        """The rows of the other teams' records, as they stand (for a team persona): every
        column as the database stores it."""
        rows = {}
        with connection.cursor() as cursor:
            for model_name, sql, params in self._guarded_queries(persona):
                cursor.execute(sql, params)
                columns = [column[0] for column in cursor.description]
                for row in cursor.fetchall():
                    values = dict(zip(columns, row, strict=True))
                    rows[model_name, values["id"]] = values
        return rows

    def _guarded_queries(self, persona: str) -> list[tuple[str, str, tuple]]:
        """The SQL of ``_guarded`` per model, compiled once per team: the sweeps read these
        rows twice per write, and building the querysets cost more than running them."""
        team = team_of(persona)
        if team is None:
            return []
        if team not in self._guarded_sql:
            by_model: dict[type, list[int]] = {}
            for other, rows in self.world.guarded.items():
                if other != team:
                    for row in rows:
                        by_model.setdefault(type(row), []).append(row.pk)
            self._guarded_sql[team] = [
                (model.__name__, *model._default_manager.filter(pk__in=pks).query.sql_with_params())
                for model, pks in by_model.items()
            ]
        return self._guarded_sql[team]

    def _request(self, client, kind, method, url, body, raw, content_type):
        call = getattr(client, method.lower())
        if method == "GET":
            return call(url, body or {})
        if raw is not None:
            return call(url, data=raw, content_type=content_type)
        if body is None:
            return call(url)
        if kind == "api" and content_type == "application/json":
            return call(url, data=json.dumps(body), content_type=content_type)
        return call(url, data=body)

    def _check_writes(self, persona, kind, owners, privileges, hooks) -> list[str]:
        problems = []
        actor = self.personas.get(persona)
        for key, owner in _owners().items():
            old = owners.get(key)
            if old is not None and old != owner and (actor is None or not can_reassign(actor, old)):
                problems.append(f"{key[0]} {key[1]} reassigned from user {old} to {owner}")
        for pk, flags in _privileges().items():
            old = privileges.get(pk)
            admin_person = (
                actor is not None and kind != "api" and actor.role == Role.ADMIN and actor.is_staff
            )
            if old is not None and old != flags and not admin_person:
                problems.append(f"user {pk} role/staff/superuser changed {old} -> {flags}")
            if old is None and flags[0] == Role.ADMIN and not admin_person:
                problems.append(f"user {pk} created as an admin")
        for pk, url in _webhook_urls().items():
            if hooks.get(pk) != url and is_internal_address(url):
                problems.append(f"webhook {pk} saved for an internal address {url}")
        return problems
