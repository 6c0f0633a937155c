"""The HTML a marketer pastes: a plain form enhanced by embed.js, or an iframe."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from app.capture.tokens import issue_token
from app.embed.routes import script_version
from app.i18n import form_language
from app.i18n.languages import DEFAULT, direction
from app.models import Form
from forms import build_form


def script_snippet(form_row: Form, *, base_url: str) -> str:
    """Plain form (posts to the hosted page without JavaScript) + the async enhancing script. Written in the
    form's fixed language (else English); embed.js puts it into the visitor's language when it starts."""
    form = build_form(form_row.kind, form_row.settings)
    form.token.data = issue_token(current_app.config["SECRET_KEY"], form_row.id, static=True)
    language = form_language(form_row) or DEFAULT
    with force_locale(language):
        html = render_template(
            "embed/script_snippet.html",
            form_row=form_row,
            form=form,
            base=base_url,
            version=script_version(),
            snippet_lang=language,
            snippet_dir=direction(language),
        )
    return html.strip() + "\n"


def iframe_snippet(form_row: Form, *, base_url: str) -> str:
    """An iframe of the hosted form, plus embed.js for automatic height (optional)."""
    return (
        render_template("embed/iframe_snippet.html", form_row=form_row, base=base_url, version=script_version()).strip()
        + "\n"
    )
