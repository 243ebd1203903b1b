"""The bad-input sweep: hostile values into every write endpoint of the API and every form.

API operations and their fields come from the OpenAPI schema (every operation with a request
body); page forms from the pages themselves (every POST form a persona is shown, and the GET
forms - filters, period pickers - whose values go in the query string). Each case
starts from a plausible body (tests/salesmgmt/security/bodies.py) and replaces one field:

- a lone surrogate ("\\ud800") in every field, NUL bytes in text, a 10 MB string;
- formula text ("=HYPERLINK(...)"): may be stored (exports escape it), never a 500;
- huge and negative numbers (99999999999999.99, 1e308, NaN, -1, -1000.00) in numeric fields;
- far dates (year 9999, year 1) in date fields;

and each API operation also gets a body of JSON nested 50,000 levels. Asserted: never a 5xx;
a refused request answers 4xx with a message (a JSON body naming fields or a detail, or the
page with its errors) and changes no row of any table; a surrogate and an out-of-range number
(beyond the money range, see salesmgmt.money) are refused, not stored.

CI sends the cases that reproduce the probe on every field plus a fixed-seed sample of the
rest; ``SWEEP_FULL=1`` (``make fuzz``) sends them all.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus, urlencode, urlsplit

from .bodies import FieldSpec, page_forms, plausible_body, request_fields
from .conftest import sample
from .endpoints import discover, schema_template
from .endpoints import targets as targets_of
from .world import SHARED

SURROGATE = "\ud800"
NUL = "bad\x00value"
FORMULA = '=HYPERLINK("http://evil.example/","click")'
HUGE_TEXT = "x" * (10 * 1024 * 1024)
HUGE_NUMBERS = ("99999999999999.99", 1e308, "NaN", "Infinity")
NEGATIVE_NUMBERS = (-1, "-1000.00")
FAR_DATES = ("9999-12-31", "0001-01-01")
DEEP_JSON = '{"a":' * 50_000 + "1" + "}" * 50_000
# Who tries each write: the first of these the endpoint does not turn away.
WRITERS = ("rep_a", "manager_a", "admin", "integrator", "executive")
# Values that must be refused wherever they go (the others may be stored when valid).
MUST_REFUSE = {"surrogate", "huge number"}


def _values(spec: FieldSpec) -> list[tuple[str, object]]:
    values: list[tuple[str, object]] = [("surrogate", SURROGATE)]
    if spec.type in ("number", "integer") or spec.format == "decimal":
        values += [("huge number", v) for v in HUGE_NUMBERS]
        values += [("negative number", v) for v in NEGATIVE_NUMBERS]
    elif spec.format in ("date", "date-time"):
        values += [("far date", v) for v in FAR_DATES]
    elif spec.type == "string" and not spec.enum:
        values += [("nul", NUL), ("formula", FORMULA)]
    return values


def _always(case) -> bool:
    """Every run: the deep JSON everywhere, and on every field the probe's values (a lone
    surrogate, the 16-digit amount, year 9999)."""
    *_, label, value = case
    return label in ("deep json", "surrogate", "huge text") or value in (
        "99999999999999.99",
        "9999-12-31",
    )


def _writer(prober, kind, method, url, body) -> str | None:
    """The first persona the endpoint lets write with a plausible body (None: nobody)."""
    for persona in WRITERS:
        outcome = prober.send(persona, kind, method, url, body=body)
        if outcome.status not in (401, 403, 404, 405):
            return persona
    return None


def _api_cases(prober, world) -> list[tuple]:
    cases = []
    for endpoint in discover():
        if endpoint.kind != "api":
            continue
        template = schema_template(endpoint)
        for method in endpoint.methods:
            fields = request_fields(template, method)
            if not fields:
                continue
            target = next(
                t
                for t in targets_of(endpoint, world)
                if t.team in (None, "a") or t.owner in ("rep_a", "integrator")
            )
            body = plausible_body(fields, world, "a", world.personas["rep_a"].pk)
            persona = _writer(prober, "api", method, target.url, body)
            if persona is None:
                continue
            if persona != "rep_a":
                body = plausible_body(fields, world, "a", world.personas[persona].pk)
            cases.append((persona, "api", method, target.url, body, "deep json", DEEP_JSON))
            text_fields = [f for f in fields if f.type == "string" and not f.enum]
            if text_fields:
                cases.append(
                    (persona, "api", method, target.url, body, "huge text", text_fields[0].name)
                )
            for spec in fields:
                for label, value in _values(spec):
                    cases.append(
                        (
                            persona,
                            "api",
                            method,
                            target.url,
                            {**body, spec.name: value},
                            label,
                            value,
                        )
                    )
    return cases


def _page_cases(prober, world) -> list[tuple]:
    """Every POST form the pages show rep_a, manager_a and the admin, with its fields."""
    forms: dict[str, tuple[str, dict]] = {}
    for endpoint in discover():
        if endpoint.kind != "page":
            continue
        target = next(
            (t for t in targets_of(endpoint, world) if t.team in (None, "a", SHARED)), None
        )
        if target is None:
            continue
        for persona in ("rep_a", "manager_a", "admin"):
            outcome = prober.send(persona, "page", "GET", target.url)
            if outcome.status != 200:
                continue
            for method in ("POST", "GET"):  # GET: filters and period pickers
                for action, fields in page_forms(outcome.content, method.lower()).items():
                    path = urlsplit(action).path or urlsplit(target.url).path
                    if fields and not path.startswith(("/login", "/logout", "/admin")):
                        forms.setdefault((method, path), (persona, fields))
    cases = []
    for (method, path), (persona, fields) in sorted(forms.items()):
        text = [name for name in fields if not fields[name].isdigit()]
        if text and method == "POST":
            cases.append((persona, "page", method, path, fields, "huge text", text[0]))
        for name, plausible in fields.items():
            spec = _page_field_spec(name, plausible)
            for label, value in _values(spec):
                cases.append((persona, "page", method, path, {**fields, name: value}, label, value))
    return cases


def _page_field_spec(name: str, plausible: str) -> FieldSpec:
    """A form field's kind, guessed from its rendered value and name."""
    if (plausible[:4].isdigit() and plausible[4:5] == "-") or name.endswith(("_on", "_date")):
        return FieldSpec(name, "string", "date")
    if any(word in name for word in ("amount", "revenue", "quota", "percent", "rating")):
        return FieldSpec(name, "number")
    if plausible.lstrip("-").replace(".", "", 1).isdigit():
        return FieldSpec(name, "integer")
    return FieldSpec(name, "string")


def _send(prober, case):
    persona, kind, method, url, body, label, value = case
    if label == "deep json":
        return prober.send(persona, kind, method, url, raw=value.encode(), compare_tables=True)
    if kind == "api":
        if label == "huge text":
            body = {**body, value: HUGE_TEXT}
        raw = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as \\ud800
        return prober.send(persona, kind, method, url, raw=raw, compare_tables=True)
    query = urlencode(
        {
            k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
            for k, v in body.items()
            if label != "huge text" or k != value
        }
    )
    if label == "huge text":  # appended as is: encoding 10 MB of "x" would only cost time
        query += f"&{quote_plus(value)}={HUGE_TEXT}"
    if method == "GET":
        return prober.send(persona, kind, method, f"{url}?{query}")
    raw = query.encode()
    return prober.send(
        persona,
        kind,
        method,
        url,
        raw=raw,
        content_type="application/x-www-form-urlencoded",
        compare_tables=True,
    )


def _judge(case, outcome) -> list[str]:
    _, kind, method, _, _, label, _ = case
    problems = list(outcome.problems)
    if outcome.status >= 500:
        return [*problems, f"server error {outcome.status}"]
    if outcome.status >= 400 and method != "GET":
        if outcome.changed_tables:
            problems.append(f"refused but wrote to {outcome.changed_tables}")
        if kind == "api" and not _has_message(outcome.content):
            problems.append(f"refused without a message: {outcome.content[:200]!r}")
    elif label in MUST_REFUSE and kind == "api":
        problems.append(f"accepted ({outcome.status})")
    return problems


def _has_message(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("fields") or body.get("detail"))


def _run(prober, cases) -> None:
    failures = []
    for case in cases:
        persona, _, method, url, body, label, value = case
        problems = _judge(case, _send(prober, case))
        if problems:
            where = next((k for k, v in body.items() if v is value), "body") if body else "body"
            failures.append(
                f"{persona:10} {method:6} {url} {label} in {where}: " + "; ".join(problems)
            )
    assert len(cases) > 50
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(
        sorted(set(failures))
    )


def test_every_api_write_refuses_bad_input_cleanly(sweep_world, prober):
    _run(prober, sample(_api_cases(prober, sweep_world), keep=_always, fraction=0.2))


def test_every_form_refuses_bad_input_cleanly(sweep_world, prober):
    _run(prober, sample(_page_cases(prober, sweep_world), keep=_always, fraction=0.1))
