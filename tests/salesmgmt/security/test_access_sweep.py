"""The access sweep: every URL pattern x every persona x read and write.

URLs come from the URLconf (pages, API, admin), their arguments filled with each team's
records (tests/salesmgmt/security/world.py); the API's methods and bodies come from the OpenAPI
schema, which must not name a path the URLconf walk missed. For each request:

- no 5xx, ever;
- anonymous: the log-in redirect (pages, admin) or 401/403 (API), except the public pages;
- an integrator on a page: 403 (integrators use the API only);
- a record outside the persona's visibility (the other team's, someone else's token, webhook
  or import): reads 403/404, writes 403/404/405 and no table changes (every row compared);
- no answer shows a record of a team the persona cannot see (the record names carry a marker);
- writes the persona may make still keep the invariants of probe.py (who may reassign, who may
  change privileges, no webhook for an internal address, no outbound connection).

CI sends a fixed-seed sample (always including the riskiest crossings, see ``_always``);
``SWEEP_FULL=1`` (``make fuzz``) sends every case.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from salesmgmt.models import User

from .bodies import page_forms, plausible_body, request_fields
from .conftest import sample
from .endpoints import PUBLIC, Endpoint, Target, discover, schema_operations, schema_template
from .endpoints import targets as targets_of
from .probe import ANONYMOUS
from .world import MARKER, TEAMS, team_of

PERSONAS = ["rep_a", "se_a", "rep_b", "manager_a", "manager_b", "executive", "admin", "integrator"]
SEES_EVERYONE = {"executive", "admin", "integrator"}
# Who crosses the team line in every CI run: the other team's manager (the most rights
# without visibility), the deal-team member, and on the shared account the other team.
ALWAYS = {"a": {"manager_b", "se_a"}, "b": {"manager_a"}, "shared": {"manager_b", "rep_b"}}


def outside(persona: str, target: Target) -> bool:
    """Whether the target's records are outside the persona's visibility."""
    if persona == ANONYMOUS:
        return False
    if target.owner is not None:
        return target.owner != persona
    if target.team not in TEAMS or persona in SEES_EVERYONE:
        return False
    return team_of(persona) != target.team


def _always(case) -> bool:
    """The cases every CI run sends; the rest is sampled (SWEEP_FULL=1 sends all).

    For each URL's first record: the crossings that matter most (ALWAYS: the other team's
    manager, the deal-team member, a rep on the shared account), personal records as their
    owner and as someone else, an integrator everywhere; anonymous reads; the admin's door
    by its lists.
    """
    persona, endpoint, target, method = case
    first = target.team is None or target.label.endswith("#0")
    if endpoint.kind == "admin":
        return persona in (ANONYMOUS, "rep_a") and endpoint.name.endswith("_changelist")
    if persona == ANONYMOUS:
        return method == "GET" and target.team in (None, "a") and first
    if persona == "integrator":
        return endpoint.kind == "api" or (target.team in (None, "a") and first)
    if target.owner is not None:
        return persona in ("rep_b", target.owner)
    if target.team is None:
        return persona in ("rep_a", "manager_b")
    return first and persona in ALWAYS.get(target.team, set())


def _cases(world) -> list[tuple[str, Endpoint, Target, str]]:
    cases = []
    for endpoint in discover():
        for target in targets_of(endpoint, world):
            for persona in [*PERSONAS, ANONYMOUS]:
                if endpoint.kind == "admin" and persona not in ("admin", ANONYMOUS, "rep_a"):
                    continue  # the admin is staff-only: one non-staff persona proves the door
                cases += [(persona, endpoint, target, method) for method in endpoint.methods]
    return cases


def _write_body(prober, persona, endpoint, target, method, forms):
    """A plausible body: the schema's fields (API) or a form the pages render for this URL
    (the persona's own, else anyone's: a write must be refused for who sends it, not for an
    incomplete body)."""
    if endpoint.kind == "api":
        fields = request_fields(schema_template(endpoint), method)
        if not fields:
            return None
        team = target.team if target.team in TEAMS else team_of(persona) or "a"
        return plausible_body(fields, prober.world, team, _person_for(prober, persona, team))
    form = forms.get((persona, target.url)) or forms.get((None, target.url))
    if form is None:
        return None
    form = dict(form)
    if "owner" in form:  # the probe's reassignment (H1)
        team = target.team if target.team in TEAMS else team_of(persona) or "a"
        form["owner"] = str(_person_for(prober, persona, team))
    return form


def _person_for(prober, persona: str, team: str) -> int:
    """Who a person field names: the caller (taking a record over, as the probe's deal-team
    member did), or for those who see everyone the other team's rep (a transfer across)."""
    if persona in prober.personas and persona not in SEES_EVERYONE:
        return prober.personas[persona].pk
    return prober.world.first(User, "b" if team == "a" else "a").pk


def _collect_forms(forms: dict, persona: str, url: str, content: bytes) -> None:
    for action, fields in page_forms(content).items():
        path = urlsplit(action).path or url
        forms.setdefault((persona, path), fields)
        forms.setdefault((None, path), fields)


def _judge(persona, endpoint, target, method, outcome) -> list[str]:
    problems = list(outcome.problems)
    status = outcome.status
    if status >= 500:
        problems.append(f"server error {status}")
        return problems
    public = endpoint.name in PUBLIC
    if persona == ANONYMOUS and not public:
        if endpoint.kind == "api":
            if status not in (401, 403):
                problems.append(f"anonymous got {status}")
        elif status == 405:
            pass  # a POST-only URL refuses the method before asking who calls: nothing shown
        elif not (status == 302 and "login" in outcome.location):
            problems.append(f"anonymous got {status} {outcome.location}")
    elif endpoint.kind == "admin" and persona != "admin" and not public:
        if not (status == 302 and "/admin/login/" in outcome.location) and status != 403:
            problems.append(f"non-staff reached the admin: {status}")
    elif persona == "integrator" and endpoint.kind == "page" and not public:
        if status not in (403, 404, 405):
            problems.append(f"integrator reached a page: {status}")
    elif endpoint.kind != "admin" and outside(persona, target):
        # 405: a POST-only URL refuses GET before looking anything up (nothing is shown).
        if status not in (403, 404, 405):
            problems.append(f"outside visibility but answered {status}")
        if method != "GET" and outcome.changed_tables:
            problems.append(f"outside visibility but changed {outcome.changed_tables}")
    marker = _forbidden_marker(persona)
    if method == "GET" and status == 200 and marker and marker.encode() in outcome.content:
        problems.append(f"shows another team's record ({marker})")
    return problems


def _forbidden_marker(persona: str) -> str | None:
    """The other team's record marker, for a persona of a team (None: sees everyone)."""
    team = team_of(persona)
    if team is None:
        return None
    return next(MARKER[t] for t in TEAMS if t != team)


def test_the_schema_names_no_path_the_urlconf_walk_missed():
    walked = {schema_template(e) for e in discover() if e.kind == "api"}
    missing = set(schema_operations()) - walked
    assert not missing, f"schema paths not found in the URLconf: {sorted(missing)}"
    assert len(walked) >= len(schema_operations())


def test_every_path_argument_names_a_known_kind_of_record(sweep_world):
    unknown = []
    for endpoint in discover():
        try:
            targets_of(endpoint, sweep_world)
        except LookupError as exc:
            unknown.append(str(exc))
    assert not unknown, "\n".join(unknown)


def test_every_url_as_every_persona_reads_and_writes_only_what_it_may(sweep_world, prober):
    cases = sample(_cases(sweep_world), keep=_always, fraction=0.04)
    print(f"{len(cases)} cases", Counter((p, e.kind) for p, e, _, _ in cases))
    failures: dict[tuple, str] = {}
    forms: dict[tuple, dict] = {}
    sent = 0

    def record(persona, endpoint, target, method, outcome):
        problems = _judge(persona, endpoint, target, method, outcome)
        if problems:
            failures[(endpoint.name, method, persona, target.label)] = (
                f"{persona:10} {method:6} {target.url} [{endpoint.name}, {target.label}]: "
                + "; ".join(problems)
            )

    # Reads first: the forms they show are the bodies of the writes.
    for persona, endpoint, target, method in sorted(cases, key=lambda c: c[3] != "GET"):
        if method == "GET":
            outcome = prober.send(persona, endpoint.kind, "GET", target.url)
            if endpoint.kind == "page" and outcome.status == 200:
                _collect_forms(forms, persona, target.url, outcome.content)
        else:
            body = _write_body(prober, persona, endpoint, target, method, forms)
            outcome = prober.send(
                persona,
                endpoint.kind,
                method,
                target.url,
                body=body,
                compare_tables=outside(persona, target) and endpoint.kind != "admin",
            )
        sent += 1
        record(persona, endpoint, target, method, outcome)
    assert sent > 300
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(
        sorted(failures.values())
    )
