"""What embed.js needs to speak the visitor's language: the script embed's form is static HTML pasted
once into the host page, so the token endpoint (which the visitor's browser asks, with its own
`Accept-Language`) hands over the page's language and the texts to put into that form."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from app.i18n import current_language, field_label, form_text
from app.i18n.languages import direction


def embed_texts(form_row: Any, form: Any) -> dict[str, Any]:
    """`lang`, `dir`, the labels, choices and button of the form in the page's language, and the messages
    embed.js shows itself."""
    language = current_language()
    fields = [*form.visible_fields(), *(form[name] for name in form.BANT)]
    return {
        "lang": language,
        "dir": direction(language),
        "labels": {field.name: str(field_label(form_row, field)) for field in fields},
        "choices": {
            field.name: {str(value): str(label) for value, label, *_ in field.iter_choices()}
            for field in fields
            if getattr(field, "choices", None)
        },
        "button": str(form_text(form_row, "button", form.SUBMIT_LABEL)),
        "messages": {
            "thanks": gettext("Thank you!"),
            "download": gettext("Download your copy"),
            "calendar": gettext("Add to calendar"),
            "failed": gettext("Something went wrong. Please try again."),
        },
    }
