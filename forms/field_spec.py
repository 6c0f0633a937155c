"""A form's own fields: what each one is, checked once when the editor saves it.

A form stores an ordered list of plain dicts under `settings["fields"]`; capture, the embeds, the
lead page, the export and forwarding all read it through `FieldSpec`. Labels, help text and option
labels stay data (translations key on the field's `key`). Contact fields (e-mail, names, company,
title, phone, country, message) keep their meaning for screening and scoring: their type and length
are fixed, the marketer chooses label, help, order, required and prefill.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = (
    "text",
    "textarea",
    "email",
    "tel",
    "number",
    "select",
    "radio",
    "checkbox",
    "multi_checkbox",
    "hidden",
)
CHOICE_TYPES = frozenset({"select", "radio", "multi_checkbox"})
# A hidden input carries one value: these types may be hidden (with a default) besides `hidden` itself.
HIDEABLE_TYPES = frozenset({"text", "email", "tel", "number", "select", "radio", "hidden"})
# Types whose value a regular expression may constrain (contact fields keep their own rules).
PATTERN_TYPES = frozenset({"text", "textarea", "tel", "hidden"})
# The contact fields, their fixed type and length (the submission's columns).
CONTACT_TYPES = {
    "email": "email",
    "first_name": "text",
    "last_name": "text",
    "company": "text",
    "job_title": "text",
    "phone": "tel",
    "country": "text",
    "message": "textarea",
}
CONTACT_MAX_LENGTH = {
    "email": 254,
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "job_title": 200,
    "phone": 40,
    "country": 80,
    "message": 5000,
}
DEFAULT_MAX_LENGTH = {"textarea": 5000}
TEXT_MAX_LENGTH = 200
# Where each destination kind names a field: HubSpot contact property, Salesforce field, webhook key.
MAPPING_KINDS = ("hubspot", "salesforce", "webhook")
MAPPING_NAME = {
    "hubspot": re.compile(r"^[a-z][a-z0-9_]{0,99}$"),
    # A Web-to-Lead name or field id, or an API name, custom ones ending in __c (Budget__c).
    "salesforce": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,79}$"),
    "webhook": re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$"),
}
# Questions whose answers scoring understands (screening/scoring.py); with the contact fields, the fields
# whose label may stay empty: the catalogue's own (translated) label is shown.
QUALIFYING_KEYS = ("budget", "authority", "need", "timeline", "company_size")
BUILTIN_KEYS = frozenset(CONTACT_TYPES) | frozenset(QUALIFYING_KEYS)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Names the public form already uses (consent, honeypot, token, context) or that WTForms reserves.
RESERVED_KEYS = frozenset(
    "consent marketing_consent website token page_url referrer embed parent csrf_token "  # the form's own
    "utm_source utm_medium utm_campaign utm_term utm_content gclid fbclid msclkid li_fat_id ttclid wbraid gbraid "
    "page_title hutk "  # posted by embed.js for attribution (app/forwarding/attribution.py)
    "data errors meta validate process populate_obj form_errors".split()  # WTForms' own attributes
)
MAX_FIELDS = 60
MAX_OPTIONS = 100


@dataclass(frozen=True)
class Choice:
    """One option of a choice field: the value stored and sent, and the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form, as stored in `settings["fields"]`."""

    key: str
    type: str
    label: str
    help: str = ""
    options: tuple[Choice, ...] = ()
    required: bool = False
    max_length: int | None = None
    pattern: str = ""
    min: float | None = None
    max: float | None = None
    hidden: bool = False
    default: str = ""
    prefill: bool = False
    mapping: Mapping[str, str] = field(default_factory=dict)

    @property
    def contact(self) -> bool:
        """A contact field: stored in the submission's own column, read by screening and scoring."""
        return self.key in CONTACT_TYPES

    @property
    def is_hidden(self) -> bool:
        """Rendered as a hidden input (the `hidden` type, or any hideable field marked hidden)."""
        return self.type == "hidden" or self.hidden

    @property
    def length(self) -> int:
        """The longest value kept."""
        if self.contact:
            return CONTACT_MAX_LENGTH[self.key]
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type, TEXT_MAX_LENGTH)

    def option_values(self) -> frozenset[str]:
        return frozenset(choice.value for choice in self.options)

    def as_dict(self) -> dict[str, Any]:
        """The stored form: only what differs from the defaults, so stored lists stay short."""
        data: dict[str, Any] = {"key": self.key, "type": self.type, "label": self.label}
        if self.help:
            data["help"] = self.help
        if self.options:
            data["options"] = [{"value": c.value, "label": c.label} for c in self.options]
        for name in ("required", "hidden", "prefill"):
            if getattr(self, name):
                data[name] = True
        for name in ("max_length", "min", "max"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.pattern:
            data["pattern"] = self.pattern
        if self.default:
            data["default"] = self.default
        if self.mapping:
            data["mapping"] = dict(self.mapping)
        return data


class FieldListError(ValueError):
    """Problems in an edited field list: `errors` maps (position, attribute) to a message."""

    def __init__(self, errors: dict[tuple[int, str], str]) -> None:
        super().__init__("; ".join(f"field {i + 1} {name}: {message}" for (i, name), message in errors.items()))
        self.errors = errors


def from_dict(data: Mapping[str, Any]) -> FieldSpec:
    """A stored field (already checked by `parse_fields`)."""
    return FieldSpec(
        key=str(data["key"]),
        type=str(data["type"]),
        label=str(data.get("label", "")),
        help=str(data.get("help", "")),
        options=tuple(Choice(str(o["value"]), str(o["label"])) for o in data.get("options") or ()),
        required=bool(data.get("required")),
        max_length=data.get("max_length"),
        pattern=str(data.get("pattern", "")),
        min=data.get("min"),
        max=data.get("max"),
        hidden=bool(data.get("hidden")),
        default=str(data.get("default", "")),
        prefill=bool(data.get("prefill")),
        mapping={k: str(v) for k, v in (data.get("mapping") or {}).items() if v},
    )


def from_dicts(items: Iterable[Mapping[str, Any]]) -> tuple[FieldSpec, ...]:
    return tuple(from_dict(item) for item in items)


def _number(text: Any) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    value = float(str(text).strip())
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return int(value) if value.is_integer() else value


def _options(raw: Any) -> tuple[Choice, ...]:
    """Options from a list of {value, label} or from text, one per line: `value = Label` or `Label`."""
    if isinstance(raw, str):
        choices = []
        for line in raw.splitlines():
            line = line.strip()
            if not line:
                continue
            value, sep, label = line.partition("=")
            value, label = (value.strip(), label.strip()) if sep else (line, line)
            choices.append(Choice(value, label or value))
        return tuple(choices)
    return tuple(Choice(str(o.get("value", "")).strip(), str(o.get("label", "")).strip()) for o in raw or ())


def parse_field(data: Mapping[str, Any], position: int, errors: dict[tuple[int, str], str]) -> FieldSpec | None:
    """One edited field, checked; problems go into `errors` under (position, attribute)."""

    def fail(name: str, message: str) -> None:
        errors.setdefault((position, name), message)

    key = str(data.get("key", "")).strip()
    kind = str(data.get("type", "")).strip()
    if not KEY.match(key):
        fail("key", "use lower-case letters, digits and _ (start with a letter, at most 40)")
    elif key in RESERVED_KEYS:
        fail("key", f"{key!r} is used by every form already; choose another key")
    if key in CONTACT_TYPES:
        kind = CONTACT_TYPES[key]  # a contact field's type is fixed
    elif kind not in FIELD_TYPES:
        fail("type", f"choose one of {', '.join(FIELD_TYPES)}")
    label = " ".join(str(data.get("label", "")).split())[:200]
    if not label and kind != "hidden" and key not in BUILTIN_KEYS:
        fail("label", "give the field a label")
    options = _options(data.get("options"))
    if kind in CHOICE_TYPES:
        values = [c.value for c in options]
        if not options:
            fail("options", "give at least one option, one per line (value = Label)")
        elif len(options) > MAX_OPTIONS:
            fail("options", f"at most {MAX_OPTIONS} options")
        elif any(not v or len(v) > 100 for v in values) or len(set(values)) != len(values):
            fail("options", "each option needs its own value (at most 100 characters)")
    else:
        options = ()
    limits: dict[str, float | None] = {}
    for name in ("max_length", "min", "max"):
        try:
            limits[name] = _number(data.get(name))
        except ValueError:
            fail(name, "give a number")
            limits[name] = None
    max_length = limits["max_length"]
    if key in CONTACT_TYPES:
        max_length = None
    elif max_length is not None and (max_length != int(max_length) or not 1 <= max_length <= 5000):
        fail("max_length", "give a whole number from 1 to 5000")
    if kind != "number":
        limits["min"] = limits["max"] = None
    elif limits["min"] is not None and limits["max"] is not None and limits["min"] > limits["max"]:
        fail("max", "the largest value must not be below the smallest")
    pattern = str(data.get("pattern", "")).strip() if kind in PATTERN_TYPES and key not in CONTACT_TYPES else ""
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            fail("pattern", f"not a regular expression: {exc}")
    hidden = bool(data.get("hidden")) or kind == "hidden"
    if hidden and kind not in HIDEABLE_TYPES:
        fail("hidden", "only a field holding one value (text, number, choice) can be hidden")
    if key == "email" and hidden:
        fail("hidden", "the e-mail address is always asked")
    default = " ".join(str(data.get("default", "")).split())
    if kind in CHOICE_TYPES and default and default not in {c.value for c in options}:
        fail("default", "the default must be one of the option values")
    mapping: dict[str, str] = {}
    raw_mapping = data.get("mapping") or {}
    for destination in MAPPING_KINDS:
        name = str(raw_mapping.get(destination, "")).strip()
        if name and not MAPPING_NAME[destination].match(name):
            fail(f"map_{destination}", f"{name!r} is not a {destination} field name")
        elif name:
            mapping[destination] = name
    required = bool(data.get("required")) or key == "email"
    if required and hidden:
        required = False  # the visitor cannot fill a hidden field: its default stands in
    if errors.keys() & {(position, n) for n in ("key", "type")}:
        return None
    return FieldSpec(
        key=key,
        type=kind,
        label=label,
        help=" ".join(str(data.get("help", "")).split())[:500],
        options=options,
        required=required,
        max_length=int(max_length) if max_length is not None else None,
        pattern=pattern,
        min=limits["min"],
        max=limits["max"],
        hidden=hidden and kind != "hidden",
        default=default[:TEXT_MAX_LENGTH],
        prefill=bool(data.get("prefill")),
        mapping=mapping,
    )


def parse_fields(items: Sequence[Mapping[str, Any]]) -> list[FieldSpec]:
    """An edited field list, checked as a whole (unique keys, the e-mail field present); raises
    FieldListError naming each problem by position and attribute."""
    errors: dict[tuple[int, str], str] = {}
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    if len(items) > MAX_FIELDS:
        errors[(0, "key")] = f"a form has at most {MAX_FIELDS} fields"
    for position, data in enumerate(items):
        spec = parse_field(data, position, errors)
        if spec is None:
            continue
        if spec.key in seen:
            errors.setdefault((position, "key"), f"another field already uses the key {spec.key!r}")
            continue
        seen.add(spec.key)
        specs.append(spec)
    if not errors and "email" not in seen:
        errors[(0, "key")] = "every form asks for the e-mail address: keep the email field"
    if errors:
        raise FieldListError(errors)
    return specs
