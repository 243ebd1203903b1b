"""Request bodies for the sweeps: plausible ones from the OpenAPI request schemas and from the
forms a page renders, and the fields (with their types) that the bad-input sweep attacks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser

from django.apps import apps
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Stage

from .world import ESCALATING_USERS_CSV, World

# Fields naming a person: filled with someone in the *other* team (the probe's reassignment).
PERSON_FIELDS = {"owner", "user", "rep", "person", "assignee", "requested_by", "manager"}
# Field name -> model name where they differ.
FIELD_MODELS = {"deal": "opportunity", "line": "statementline", "review": "accountreview"}
# Fields whose plausible value the schema cannot tell (an import makes rep_a an admin: M2).
NAMED_VALUES = {
    "content": ESCALATING_USERS_CSV,
    "dry_run": False,
    "currency": "USD",
    "country": "US",
    "kind": "users",
}
# An address inside the machine: a webhook saved with it is the probe's SSRF (M1).
INTERNAL_URL = "http://127.0.0.1:9/hook"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "string", "integer", "number", "boolean", "array", "object"
    format: str = ""
    enum: tuple = ()
    read_only: bool = False
    max_length: int | None = None


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def request_fields(template: str, method: str) -> list[FieldSpec] | None:
    """The JSON request body's fields of an operation (None: it takes no body)."""
    schema = _schema()
    operation = schema["paths"].get(template, {}).get(method.lower())
    if not operation or "requestBody" not in operation:
        return None
    content = operation["requestBody"]["content"]
    body = content.get("application/json") or next(iter(content.values()))
    node = _resolve(schema, body["schema"])
    fields = []
    for name, prop in (node.get("properties") or {}).items():
        kind = prop
        if "oneOf" in prop or "anyOf" in prop:
            kind = _resolve(schema, (prop.get("oneOf") or prop.get("anyOf"))[0])
        kind = _resolve(schema, kind)
        if kind.get("type") == "array":  # a list of choices: its choices
            items = _resolve(schema, kind.get("items", {}))
            enum = tuple(v for v in items.get("enum", ()) if v not in ("", None))
        else:
            enum = tuple(v for v in kind.get("enum", ()) if v not in ("", None))
        fields.append(
            FieldSpec(
                name,
                kind.get("type", "string" if enum else "object"),
                kind.get("format", ""),
                enum,
                bool(prop.get("readOnly")),
                kind.get("maxLength"),
            )
        )
    return [f for f in fields if not f.read_only]


def _record_id(world: World, name: str, team: str) -> int | None:
    model_name = FIELD_MODELS.get(name, name).replace("_", "")
    for model in world.records:
        if model._meta.model_name == model_name:
            row = world.first(model, team)
            return row.pk if row is not None else None
    for model, row in world.neutral.items():
        if model._meta.model_name == model_name:
            return row.pk
    if model_name == "stage":
        return Stage.objects.order_by("order").first().pk
    try:
        model = apps.get_model(*_app_model(model_name))
    except LookupError:
        return None
    row = model._default_manager.order_by("pk").first()
    return row.pk if row is not None else None


def _app_model(model_name: str) -> tuple[str, str]:
    for model in apps.get_models():
        if model._meta.model_name == model_name:
            return model._meta.app_label, model_name
    raise LookupError(model_name)


def plausible_value(spec: FieldSpec, world: World, team: str, person_id: int):
    """A value the field would accept, ids taken from ``team``'s records; a person field
    names ``person_id`` (the caller: a deal-team member taking a deal over, probe H1)."""
    if spec.name in PERSON_FIELDS and spec.type == "integer":
        return person_id
    if spec.name in NAMED_VALUES:
        return NAMED_VALUES[spec.name]
    if spec.enum:
        return [spec.enum[0]] if spec.type == "array" else spec.enum[0]
    if spec.type == "integer":
        return _record_id(world, spec.name, team) or 1
    if spec.type == "number":
        return 100
    if spec.type == "boolean":
        return True
    if spec.type == "array":
        return []
    if spec.type == "object":
        return {}
    if spec.format == "date":
        return (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    if spec.format == "date-time":
        return timezone.now().isoformat()
    if spec.format == "decimal":
        return "100.00"
    if spec.format == "uri":
        return INTERNAL_URL
    if spec.format == "email":
        return "sweep@example.com"
    return "Sweep text"[: spec.max_length or None]


def plausible_body(fields: list[FieldSpec], world: World, team: str, person_id: int) -> dict:
    return {spec.name: plausible_value(spec, world, team, person_id) for spec in fields}


class _FormParser(HTMLParser):
    """The fields of the POST forms on a page: {action: {name: value}}."""

    def __init__(self, method: str = "post") -> None:
        super().__init__()
        self.method = method
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == self.method:
            self._current = self.forms.setdefault(attrs.get("action") or "", {})
        elif self._current is None or (not attrs.get("name") and tag != "option"):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                self._current.setdefault(attrs["name"], "")
                return
            if kind in ("submit", "button", "file"):
                return
            self._current[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
            self._current.setdefault(self._select, "")
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if "selected" in attrs or not self._current.get(self._select):
                self._current[self._select] = value
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self._current[self._textarea] = ""

    def handle_data(self, data):
        if self._current is not None and self._textarea:
            self._current[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: bytes, method: str = "post") -> dict[str, dict[str, str]]:
    """The fields of the page's forms of ``method``, by the path they are sent to."""
    parser = _FormParser(method)
    parser.feed(html.decode("utf-8", "replace"))
    for fields in parser.forms.values():
        fields.pop("csrfmiddlewaretoken", None)
    return parser.forms


def form_for(html: bytes, url: str) -> dict[str, str] | None:
    """The fields of the form that posts to ``url`` (or to itself) on a page."""
    forms = page_forms(html)
    return forms.get(url) or forms.get("")
