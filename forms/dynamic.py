"""The public form of one stored field list: the kind's form class with the form's own fields added.

Contact fields keep the kind's WTForms fields (their filters, validators and messages); every other
field (the qualifying questions included) is built from its `FieldSpec`, so the hosted page, both
embeds, HTML posts and JSON posts are validated by the same rules. A form saved before it had a field
list gets the list its kind and shown/required settings describe (`default_fields`), which renders and
validates exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import CONTACT_FIELDS, LeadForm
from forms.field_spec import CONTACT_TYPES, FieldSpec, from_dicts
from forms.fields import Email, Phone, clean_line, clean_text

# Contact fields a link may prefill unless the marketer says otherwise (never the free-text message).
PREFILL_BY_DEFAULT = frozenset(CONTACT_FIELDS) - {"message"}
AUTOCOMPLETE = {
    "email": "email",
    "first_name": "given-name",
    "last_name": "family-name",
    "company": "organization",
    "job_title": "organization-title",
    "phone": "tel",
    "country": "country-name",
}
PLACEHOLDER = ""  # a select's first, empty option ("Choose…"): not an answer
NO_LABEL = ""  # builtin_label of a field that has none of its own
# What a visitor reads for the field list's rules: lazy, so each is read in the page's language.
MESSAGES = {
    "choose": _l("Choose…"),
    "choose_one": _l("Choose an answer."),
    "choose_some": _l("Choose at least one."),
    "tick": _l("Tick this box to continue."),
    "fill": _l("Fill in this field."),
    "format": _l("Enter a value in the format asked for."),
    "number": _l("Enter a number."),
    "between": _l("Enter a number from %(low)s to %(high)s."),
    "at_least": _l("Enter a number of at least %(low)s."),
    "at_most": _l("Enter a number of at most %(high)s."),
}


def default_fields(
    kind_class: type[LeadForm], shown: Sequence[str] | None = None, required: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The field list a form of this kind had before field lists: its shown contact fields in their fixed
    order, then its qualifying questions. Built-in labels are left empty, so the catalogue's (translated)
    label is shown; the questions' options keep their values, their labels likewise empty."""
    wanted_required = kind_class.REQUIRED if required is None else required
    wanted_shown = kind_class.SHOWN if shown is None else shown
    fields: list[dict[str, Any]] = []
    for key in CONTACT_FIELDS:
        is_required = key == "email" or key in wanted_required
        if key in wanted_shown or is_required:
            item: dict[str, Any] = {"key": key, "type": "", "label": ""}
            if is_required:
                item["required"] = True
            if key in PREFILL_BY_DEFAULT:
                item["prefill"] = True
            fields.append(item)
    for key in kind_class.BANT:
        choices = _builtin_choices(kind_class, key)
        fields.append(
            {
                "key": key,
                "type": "select",
                "label": "",
                "options": [{"value": c.value, "label": ""} for c in choices if c.value != PLACEHOLDER],
            }
        )
    for item in fields:
        item["type"] = item["type"] or CONTACT_TYPES[item["key"]]
    return fields


def _builtin_choices(kind_class: type[LeadForm], key: str) -> list[SelectChoice]:
    """A qualifying question's built-in options (its placeholder first), if the kind asks it."""
    unbound = getattr(kind_class, key, None) if key in kind_class.BANT else None
    if not isinstance(unbound, UnboundField):
        return []
    return [c if isinstance(c, SelectChoice) else SelectChoice(*c) for c in unbound.kwargs.get("choices") or ()]


def field_specs(kind_class: type[LeadForm], settings: Mapping[str, Any]) -> tuple[FieldSpec, ...]:
    """The form's fields in order: its stored list, or its kind's defaults."""
    stored = settings.get("fields")
    if stored:
        return from_dicts(stored)
    return from_dicts(default_fields(kind_class, settings.get("shown"), settings.get("required")))


def builtin_label(kind_class: type[LeadForm], key: str) -> Any:
    """The catalogue's label of a built-in field (contact field or qualifying question), else ""."""
    owner = LeadForm if key in CONTACT_FIELDS else kind_class if key in kind_class.BANT else None
    unbound = getattr(owner, key, None) if owner is not None else None
    return unbound.args[0] if isinstance(unbound, UnboundField) and unbound.args else NO_LABEL


def choices_of(kind_class: type[LeadForm], spec: FieldSpec) -> list[SelectChoice]:
    """Options with their labels; an empty label is the built-in question's (translated) one."""
    builtin = {c.value: c.label for c in _builtin_choices(kind_class, spec.key)}
    return [SelectChoice(c.value, c.label or builtin.get(c.value, c.value)) for c in spec.options]


class Number:
    """A number (a decimal point, no thousands separators), within the field's smallest and largest."""

    def __init__(self, minimum: float | None, maximum: float | None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            value = float(str(field.data).replace(",", "."))
        except ValueError as exc:
            raise ValidationError(MESSAGES["number"]) from exc
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(MESSAGES["number"])
        low, high = self.minimum, self.maximum
        too_low, too_high = low is not None and value < low, high is not None and value > high
        if too_low or too_high:
            if low is not None and high is not None:
                message = MESSAGES["between"] % {"low": _plain(low), "high": _plain(high)}
            elif low is not None:
                message = MESSAGES["at_least"] % {"low": _plain(low)}
            elif high is not None:
                message = MESSAGES["at_most"] % {"high": _plain(high)}
            raise ValidationError(message)


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def typed_number(text: str) -> int | float:
    """A valid number field's value as a number (an integer when it has no fraction)."""
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _unbound(kind_class: type[LeadForm], spec: FieldSpec) -> UnboundField:
    """The WTForms field for one non-contact field."""
    builtin = builtin_label(kind_class, spec.key)  # lazy (translated when shown): never tested for truth here
    label = spec.label or (builtin if builtin is not NO_LABEL else spec.key)
    required = spec.required and not spec.is_hidden
    if spec.type in ("select", "radio") or (spec.type == "multi_checkbox"):
        choices = choices_of(kind_class, spec)
        if spec.type == "select":
            placeholder = _builtin_choices(kind_class, spec.key)[:1] or [SelectChoice(PLACEHOLDER, MESSAGES["choose"])]
            choices = [placeholder[0], *choices]
            check = DataRequired(MESSAGES["choose_one"]) if required else Optional()
            return SelectField(label, choices=choices, validators=[check], default=spec.default or None)
        if spec.type == "radio":
            check = InputRequired(MESSAGES["choose_one"]) if required else Optional()
            return RadioField(label, choices=choices, validators=[check], default=spec.default or None)
        check = DataRequired(MESSAGES["choose_some"]) if required else Optional()
        return SelectMultipleField(
            label,
            choices=choices,
            validators=[check],
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
        )
    if spec.type == "checkbox":
        return BooleanField(label, validators=[InputRequired(MESSAGES["tick"])] if required else [])
    check = DataRequired(MESSAGES["fill"]) if required else Optional()
    validators: list[Any] = [check, Length(max=spec.length)]
    if spec.pattern:
        validators.append(Regexp(spec.pattern, message=MESSAGES["format"]))
    if spec.type == "textarea":
        return TextAreaField(label, filters=[clean_text], validators=validators)
    if spec.type == "email":
        return EmailField(label, filters=[clean_line], validators=[*validators, Email()], default=spec.default or None)
    if spec.type == "tel":
        validators.append(Phone())
    elif spec.type == "number":
        validators.append(Number(spec.min, spec.max))
    if spec.is_hidden:
        return HiddenField(label, filters=[clean_line], validators=validators, default=spec.default or None)
    return StringField(label, filters=[clean_line], validators=validators, default=spec.default or None)


class FieldListForm(LeadForm):
    """A kind's form with its field list (`SPECS`): contact fields shown, required and labelled as the list
    says, every other field built from its spec."""

    SPECS: ClassVar[tuple[FieldSpec, ...]] = ()
    AUTOCOMPLETE: ClassVar[Mapping[str, str]] = AUTOCOMPLETE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        contact = [s for s in self.SPECS if s.contact]
        kwargs["shown"] = [s.key for s in contact]
        kwargs["required"] = [s.key for s in contact if s.required and not s.is_hidden]
        super().__init__(*args, **kwargs)
        for spec in contact:
            if spec.label:
                self[spec.key].label.text = spec.label

    def field_rows(self) -> list[tuple[FieldSpec, Any]]:
        """Each field of the list with its bound WTForms field, in the list's order."""
        return [(spec, self[spec.key]) for spec in self.SPECS]

    def visible_fields(self) -> list[Any]:
        """The fields a visitor sees, in the list's order."""
        return [field for spec, field in self.field_rows() if not spec.is_hidden]

    def prefill_keys(self) -> list[str]:
        """Fields a link may fill in (allow-listed per field)."""
        return [spec.key for spec in self.SPECS if spec.prefill]

    def prefill(self, values: Any) -> None:
        """Fill the allow-listed fields from a link's query (`values`: a MultiDict), cleaned and cut like a
        post; a choice only to one of its options. The visitor sees and may change them before posting."""
        for spec, field in self.field_rows():
            if not spec.prefill:
                continue
            if spec.type == "multi_checkbox":
                chosen = [v for v in values.getlist(spec.key) if v in spec.option_values()]
                if chosen:
                    field.data = chosen
                continue
            value = clean_line(values.get(spec.key, ""))
            if not value:
                continue
            if spec.type == "checkbox":
                field.data = value.lower() in ("1", "y", "yes", "true", "on")
            elif spec.type in ("select", "radio"):
                if value in spec.option_values():
                    field.data = value
            else:
                field.data = value[: spec.length]

    def contact_data(self) -> dict[str, str]:
        """The contact fields; a hidden one left empty takes its default."""
        data = super().contact_data()
        for spec in self.SPECS:
            if spec.contact and spec.is_hidden and not data.get(spec.key):
                data[spec.key] = spec.default
        return data

    def answers_data(self) -> dict[str, Any]:
        """Every other field's answer, typed (text, number, true, a list of options), keyed by field key;
        only those given (a hidden field left empty takes its default)."""
        answers: dict[str, Any] = {}
        for spec, field in self.field_rows():
            if spec.contact:
                continue
            value = field.data
            if spec.type == "checkbox":
                if value:
                    answers[spec.key] = True
            elif spec.type == "multi_checkbox":
                if value:
                    answers[spec.key] = list(value)
            elif spec.type == "email" and value:
                answers[spec.key] = getattr(field, "normalized", None) or value
            elif value:
                answers[spec.key] = typed_number(value) if spec.type == "number" else value
            elif spec.is_hidden and spec.default:
                answers[spec.key] = typed_number(spec.default) if spec.type == "number" else spec.default
        return answers

    def reprocess(self, formdata: Any) -> None:
        """As LeadForm.reprocess, and forget the normalised address of custom e-mail fields too."""
        for spec, field in self.field_rows():
            if spec.type == "email" and not spec.contact:
                field.normalized = None
        super().reprocess(formdata)


# Built classes by (kind class, field list): a form's class is built once per process and list.
_CLASSES: dict[tuple[type[LeadForm], str], type[FieldListForm]] = {}
MAX_CLASSES = 512


def _form_class(kind_class: type[LeadForm], fields_json: str) -> type[FieldListForm]:
    built = _CLASSES.get((kind_class, fields_json))
    if built is not None:
        return built
    specs = from_dicts(json.loads(fields_json))
    attrs: dict[str, Any] = {name: None for name in kind_class.BANT}  # the kind's own questions: only if listed
    attrs.update({spec.key: _unbound(kind_class, spec) for spec in specs if not spec.contact})
    attrs["SPECS"] = specs
    attrs["BANT"] = ()
    built = type(f"{kind_class.__name__}Fields", (FieldListForm, kind_class), attrs)
    if len(_CLASSES) >= MAX_CLASSES:  # forms edited again and again: start afresh rather than grow
        _CLASSES.clear()
    _CLASSES[(kind_class, fields_json)] = built
    return built


def with_fields(kind_class: type[LeadForm], settings: Mapping[str, Any]) -> type[FieldListForm]:
    """The form class for a stored form: its kind's class with its field list (built once per list)."""
    specs = field_specs(kind_class, settings)
    return _form_class(kind_class, json.dumps([s.as_dict() for s in specs], sort_keys=True))
