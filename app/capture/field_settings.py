"""A form's field list as the editor saves it and as its live preview shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from forms.field_spec import FieldListError, parse_field, parse_fields


def apply_fields(settings: dict[str, Any], rows: Sequence[Mapping[str, Any]], errors: dict[str, str]) -> None:
    """Check the edited list and store it, with the contact fields shown and required it implies (kept
    for code that reads those); each problem goes into `errors` as `fields-<position>-<attribute>`."""
    try:
        specs = parse_fields(rows)
    except FieldListError as exc:
        errors.update({f"fields-{position}-{name}": message for (position, name), message in exc.errors.items()})
        return
    settings["fields"] = [spec.as_dict() for spec in specs]
    settings["shown"] = [spec.key for spec in specs if spec.contact]
    settings["required"] = [spec.key for spec in specs if spec.contact and spec.required]


def preview_fields(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
    """The rows that are fine so far, for the live preview (a half-typed row is skipped, not refused);
    None when the e-mail field is missing, so the preview shows the kind's defaults."""
    fields: list[dict[str, Any]] = []
    keys: set[str] = set()
    for position, row in enumerate(rows):
        problems: dict[tuple[int, str], str] = {}
        spec = parse_field(row, position, problems)
        if spec is not None and not problems and spec.key not in keys:
            keys.add(spec.key)
            fields.append(spec.as_dict())
    return fields if "email" in keys else None
