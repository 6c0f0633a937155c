"""The form editor's rows, one per field of the form (app/admin/form_fields.py fills and reads them).

Each row edits every attribute of one field; `position` orders the rows and `remove` drops one. The
rules themselves are checked once, by forms/field_spec.py, so the editor and the seed agree.
"""

from __future__ import annotations

from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from forms.field_spec import FIELD_TYPES

TYPE_LABELS = {
    "text": "Text",
    "textarea": "Text area",
    "email": "E-mail address",
    "tel": "Phone number",
    "number": "Number",
    "select": "Drop-down",
    "radio": "Radio buttons",
    "checkbox": "Checkbox",
    "multi_checkbox": "Checkboxes (several)",
    "hidden": "Hidden",
}


def _text(label: str, max_length: int = 200) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=max_length)])


class FieldRowForm(Form):
    """One field of the form being edited (a sub-form: the editor's CSRF token covers it)."""

    position = _text("Position", 4)
    key = _text("Key (letters, digits, _)", 40)
    type = SelectField("Type", choices=[SelectChoice(t, TYPE_LABELS[t]) for t in FIELD_TYPES], validate_choice=False)
    label = _text("Label (empty: the built-in label)")
    help = _text("Help text", 500)
    options = TextAreaField(
        "Options, one per line: value = Label", validators=[Optional(), Length(max=10000)], render_kw={"rows": 3}
    )
    required = BooleanField("Required")
    max_length = _text("Longest (characters)", 5)
    pattern = _text("Pattern (regular expression)", 500)
    min = _text("Smallest number", 30)
    max = _text("Largest number", 30)
    hidden = BooleanField("Hidden")
    default = _text("Default value")
    prefill = BooleanField("A link may fill it in (?key=value)")
    map_hubspot = _text("HubSpot property", 100)
    map_salesforce = _text("Salesforce field (API name or id)", 80)
    map_webhook = _text("Webhook key", 80)
    remove = BooleanField("Remove this field")
