"""Answers as people read them: each field's label and its value in words (an option's label, "yes",
several choices joined), for the admin's submission and lead pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.base import LeadForm
from forms.dynamic import builtin_label, choices_of, field_specs


def answer_text(value: Any, labels: Mapping[str, Any] | None = None) -> str:
    """One answer in words: an option by its label (`labels`, when the field is known), a ticked box "yes"."""
    labels = labels or {}
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def answer_rows(
    kind_class: type[LeadForm] | None, settings: Mapping[str, Any], answers: Mapping[str, Any]
) -> list[tuple[str, str, str]]:
    """(key, label, text) of every answer: the form's fields in its order, then answers of fields it no
    longer has (or of a form whose kind is gone), by key."""
    if kind_class is None:
        return [(key, key, answer_text(value)) for key, value in sorted(answers.items())]
    rows = []
    listed: set[str] = set()
    for spec in field_specs(kind_class, settings):
        listed.add(spec.key)
        if spec.contact or answers.get(spec.key) in (None, "", []):
            continue
        label = spec.label or str(builtin_label(kind_class, spec.key)) or spec.key
        labels = {c.value: str(c.label) for c in choices_of(kind_class, spec)}
        rows.append((spec.key, label, answer_text(answers[spec.key], labels)))
    rows += [(key, key, answer_text(value)) for key, value in sorted(answers.items()) if key not in listed]
    return rows
