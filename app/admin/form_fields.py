"""The form editor's field rows: filled from a form's field list, read back in the order the marketer
gave, and the field list's problems shown on the row and attribute they concern."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from forms import FORM_KINDS
from forms.admin import FormEditor
from forms.dynamic import field_specs
from forms.field_spec import FieldSpec

MAPPED = ("hubspot", "salesforce", "webhook")
# Rows for new fields the editor offers below the form's own.
BLANK_ROWS = 1


def _options_text(spec: FieldSpec) -> str:
    return "\n".join(f"{c.value} = {c.label}" if c.label else c.value for c in spec.options)


def _number_text(value: float | None) -> str:
    return "" if value is None else str(value)


def fill_rows(editor: FormEditor, kind: str, settings: Mapping[str, Any]) -> None:
    """One row per field of the form (its stored list, or its kind's defaults), then a blank one."""
    kind_class = FORM_KINDS.get(kind) or FORM_KINDS["download"]
    while editor.fields.entries:
        editor.fields.pop_entry()
    for position, spec in enumerate(field_specs(kind_class, settings), start=1):
        editor.fields.append_entry(
            {
                "position": str(position),
                "key": spec.key,
                "type": spec.type,
                "label": spec.label,
                "help": spec.help,
                "options": _options_text(spec),
                "required": spec.required,
                "max_length": _number_text(spec.max_length),
                "pattern": spec.pattern,
                "min": _number_text(spec.min),
                "max": _number_text(spec.max),
                "hidden": spec.hidden,
                "default": spec.default,
                "prefill": spec.prefill,
                **{f"map_{name}": spec.mapping.get(name, "") for name in MAPPED},
            }
        )
    for _ in range(BLANK_ROWS):
        editor.fields.append_entry({"position": str(len(editor.fields.entries) + 1), "type": "text"})


def read_rows(editor: FormEditor) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows as plain field dicts in the order of their positions (a row without a position or key, or
    marked for removal, is left out), and for each the index of the editor row it came from."""
    kept: list[tuple[float, int, dict[str, Any]]] = []
    for index, entry in enumerate(editor.fields.entries):
        row = entry.form
        if row.remove.data or not (row.key.data or "").strip():
            continue
        try:
            position = float(row.position.data or "")
        except ValueError:
            position = float(index + 1)
        item = {
            name: row[name].data
            for name in ("key", "type", "label", "help", "options", "required", "max_length", "pattern", "min")
        }
        item.update(
            max=row["max"].data,
            hidden=row.hidden.data,
            default=row.default.data,
            prefill=row.prefill.data,
            mapping={name: row[f"map_{name}"].data or "" for name in MAPPED},
        )
        kept.append((position, index, item))
    kept.sort(key=lambda k: (k[0], k[1]))
    return [item for _, _, item in kept], [index for _, index, _ in kept]


def show_errors(editor: FormEditor, errors: Mapping[str, str], origin: Sequence[int]) -> bool:
    """Put each `fields-<position>-<attribute>` problem on its row; True if there were any."""
    found = False
    for name, message in errors.items():
        parts = name.split("-", 2)
        if len(parts) != 3 or parts[0] != "fields" or not parts[1].isdigit():
            continue
        position = int(parts[1])
        index = origin[position] if position < len(origin) else 0
        if index >= len(editor.fields.entries):
            continue
        row = editor.fields.entries[index].form
        field = row[parts[2]] if parts[2] in row else row.key
        field.errors = [*field.errors, message]
        editor.fields.errors = [*editor.fields.errors, {field.name: [message]}]  # so editor.errors counts it
        found = True
    return found
