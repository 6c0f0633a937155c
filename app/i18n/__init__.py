"""Visitor-facing languages (Flask-Babel): which language a public page is in, and the form's own texts in it.

The language is the form's fixed one (`settings["language"]`), else the visitor's `Accept-Language`,
else English. The admin stays English. Catalogues live in `app/translations/<code>/LC_MESSAGES/`
(the `.po` is the source, the committed `.mo` what runs; docs/forms.md says how to add a language).
"""

from __future__ import annotations

import functools
from typing import Any

from babel import Locale
from flask import Flask, Response, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import Environment
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from app.i18n.languages import DEFAULT, LANGUAGES, choose, direction
from app.i18n.overrides import LABEL_PREFIX, text_for

babel = Babel()


def form_language(form_row: Any) -> str:
    """The language a form is fixed to, "" when it follows the visitor's browser."""
    settings = getattr(form_row, "settings", None) or {}
    value = settings.get("language") if isinstance(settings, dict) else ""
    return value if isinstance(value, str) and value in LANGUAGES else ""


def select_locale() -> Locale:
    """Flask-Babel's locale selector: English for the admin, else the form's or the browser's language."""
    if not has_request_context() or request.blueprint == "admin" or request.path.startswith("/admin/"):
        return _locale("", "")
    return _locale(form_language(g.get("form_row")), request.headers.get("Accept-Language", ""))


@functools.lru_cache(maxsize=512)
def _locale(fixed: str, header: str) -> Locale:
    """Parsed once per (fixed language, header) per process: every form post asks (its consents and e-mail
    record the language), and parsing the header and the locale cost some 0.1 ms a time."""
    return Locale.parse(choose(fixed, parse_accept_header(header, LanguageAccept)))


def current_language() -> str:
    """The language code of the page being rendered (or of `force_locale`), e.g. `de`."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def form_text(form_row: Any, key: str, default: Any) -> Any:
    """The form's own text (`title`, `intro`, `button`, `thank_you`) in the page's language, else `default`."""
    return text_for(getattr(form_row, "translations", None), current_language(), key) or default


def field_label(form_row: Any, field: Any) -> Any:
    """A field's label in the page's language: the marketer's translation, else the catalogue's."""
    return form_text(form_row, LABEL_PREFIX + field.name, field.label.text)


def _page_language() -> dict[str, Any]:
    language = current_language()
    return {"page_lang": language, "page_dir": direction(language), "form_text": form_text, "field_label": field_label}


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the app's catalogues and give templates `page_lang`, `page_dir` and the text helpers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(_page_language)
    app.after_request(_vary)


def _vary(response: Response) -> Response:
    """A public page's language follows Accept-Language: caches must keep one copy per language."""
    if has_request_context() and request.blueprint != "admin" and response.mimetype == "text/html":
        response.vary.add("Accept-Language")
    return response


def with_gettext(env: Environment) -> Environment:
    """An overlay of a Jinja environment whose `_()` and `{% trans %}` follow Flask-Babel's current (or
    forced) locale, for templates rendered outside a request (the worker's e-mails)."""
    overlay = env.overlay(extensions=["jinja2.ext.i18n"])
    overlay.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
    )
    return overlay
