"""form field lists: every form's fields, in order, stored in its settings (`settings["fields"]`)

Each existing form gets the list its kind and its shown/required settings described, so it renders,
validates and stores exactly as before: its shown contact fields in the fixed order (required as
before, e-mail always; the seven a link could prefill still prefillable), then the kind's qualifying
questions (budget, authority, need, timeline, company size) as select fields with the same option
values. Labels stay empty: the built-in, translated labels are shown. The kinds' defaults are copied
here as they were on this date, so later changes to the kinds do not rewrite history.

Downgrade drops the lists; `shown`/`required` are kept in step by the editor, so forms look as they did.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The contact fields' types (message is a text area, phone a telephone number, e-mail an address).
CONTACT = dict.fromkeys(("first_name", "last_name", "company", "job_title", "country"), "text")
CONTACT.update(email="email", phone="tel", message="textarea")
PREFILL = set(CONTACT) - {"message"}
_FULL = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
_EVENT = ("email", "first_name", "last_name", "company", "job_title", "country")
# kind: (shown, required, asks the qualifying questions)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "download": (_EVENT, ("email", "first_name", "company"), False),
    "webinar": (_EVENT, ("email", "first_name", "last_name"), False),
    "demo": (_FULL, ("email", "first_name", "last_name", "company"), True),
    "contact_sales": (_FULL, ("email", "first_name", "company", "message"), True),
    "newsletter": (("email", "first_name"), ("email",), False),
}
QUESTIONS = {
    "budget": ("under_10k", "10k_50k", "over_50k", "none"),
    "authority": ("decision_maker", "influencer", "researcher"),
    "need": ("urgent", "exploring"),
    "timeline": ("now", "quarter", "year", "none"),
    "company_size": ("1_10", "11_50", "51_200", "201_1000", "1001_5000", "over_5000"),
}

forms = sa.table("forms", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("settings", sa.JSON))


def fields_for(kind: str, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The field list a form of this kind and settings showed."""
    default_shown, default_required, questions = KINDS.get(kind, (("email",), ("email",), False))
    shown = settings.get("shown")
    required = settings.get("required")
    wanted_shown = default_shown if shown is None else shown
    wanted_required = default_required if required is None else required
    fields: list[dict[str, Any]] = []
    for key in _FULL:
        is_required = key == "email" or key in wanted_required
        if key in wanted_shown or is_required:
            item: dict[str, Any] = {"key": key, "type": CONTACT[key], "label": ""}
            if is_required:
                item["required"] = True
            if key in PREFILL:
                item["prefill"] = True
            fields.append(item)
    if questions:
        for key, values in QUESTIONS.items():
            fields.append(
                {"key": key, "type": "select", "label": "", "options": [{"value": v, "label": ""} for v in values]}
            )
    return fields


def upgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(forms.c.id, forms.c.kind, forms.c.settings)).all():
        settings = dict(row.settings or {})
        if settings.get("fields"):
            continue
        settings["fields"] = fields_for(row.kind, settings)
        connection.execute(forms.update().where(forms.c.id == row.id).values(settings=settings))


def downgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(forms.c.id, forms.c.settings)).all():
        settings = dict(row.settings or {})
        if settings.pop("fields", None) is not None:
            connection.execute(forms.update().where(forms.c.id == row.id).values(settings=settings))
