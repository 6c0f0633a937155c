"""Forms: list, create, edit, activate; the embed panel and the live preview (admins only)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from app.admin.blueprint import admin_only, bp
from app.admin.form_fields import fill_rows, read_rows, show_errors
from app.capture.field_settings import preview_fields
from app.capture.form_settings import FormInput, FormSettingsError, destinations_for, save_form, set_active
from app.capture.thanks import visitor_email_settings
from app.db import get_session
from app.embed.snippets import iframe_snippet, script_snippet
from app.i18n.languages import LANGUAGES
from app.i18n.overrides import OverrideError
from app.i18n.overrides import parse as parse_translations
from app.i18n.overrides import render as render_translations
from app.models import Destination, Form, Submission, utcnow
from forms import FORM_KINDS, build_form
from forms.admin import FormEditor, LogoutForm


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


# The form editor's language choices: the visitor's browser, or one language with a catalogue.
LANGUAGE_CHOICES = [
    SelectChoice("", "The visitor's browser (Accept-Language; English when none of theirs is here)"),
    *(SelectChoice(code, f"{name} ({code})") for code, name in LANGUAGES.items()),
]


def _editor(form_row: Form | None) -> FormEditor:
    """The editor, filled from the row on GET and from the request on POST."""
    editor = FormEditor()
    destinations = (
        get_session().scalars(select(Destination).where(Destination.active.is_(True)).order_by(Destination.id)).all()
    )
    editor.destinations.choices = [
        SelectChoice(d.id, f"{d.name} ({', '.join(d.stages) or 'all stages'})") for d in destinations
    ]
    editor.language.choices = LANGUAGE_CHOICES
    if request.method == "GET":
        if form_row is None:
            editor.kind.data = request.args.get("kind", "download")
            defaults = build_form(editor.kind.data if editor.kind.data in FORM_KINDS else "download", {})
            editor.shown.data, editor.required.data = list(defaults.shown_fields), list(defaults.required_fields)
            fill_rows(editor, editor.kind.data or "", {})
            editor.visitor_email.data = visitor_email_settings(editor.kind.data or "", {})["enabled"]
            editor.destinations.data = []
        else:
            _fill(editor, form_row)
    return editor


def _fill(editor: FormEditor, form_row: Form) -> None:
    settings = form_row.settings or {}
    public = build_form(form_row.kind, settings)
    webinar = settings.get("webinar") or {}
    editor.name.data, editor.slug.data, editor.kind.data = form_row.name, form_row.slug, form_row.kind
    editor.active.data = form_row.active
    for key in ("intro", "consent_text", "thank_you", "redirect_url", "asset_url", "asset_name"):
        editor[key].data = settings.get(key, "")
    editor.marketing_consent_text.data = settings.get("marketing_consent_text", "")
    editor.consent_required.data = settings.get("consent_required", True) is not False
    editor.webinar_title.data = webinar.get("title", "")
    editor.webinar_starts_at.data = webinar.get("starts_at", "")
    editor.webinar_join_url.data = webinar.get("join_url", "")
    editor.webinar_duration_minutes.data = str(webinar.get("duration_minutes") or "")
    email = visitor_email_settings(form_row.kind, settings)
    editor.visitor_email.data = email["enabled"]
    editor.visitor_email_subject.data, editor.visitor_email_body.data = email["subject"], email["body"]
    editor.allowed_origins.data = "\n".join(settings.get("allowed_origins", []))
    challenge = settings.get("challenge") or {}
    editor.challenge_provider.data = challenge.get("provider", "")
    editor.challenge_site_key.data = challenge.get("site_key", "")
    editor.challenge_min_score.data = str(challenge.get("min_score", ""))
    editor.akismet.data = bool(settings.get("akismet"))
    editor.language.data = settings.get("language") or ""
    editor.translations.data = render_translations(form_row.translations)
    editor.shown.data, editor.required.data = list(public.shown_fields), list(public.required_fields)
    fill_rows(editor, form_row.kind, settings)
    editor.destinations.data = destinations_for(get_session(), form_row.slug)


def _input(editor: FormEditor) -> FormInput:
    return FormInput(
        name=editor.name.data or "",
        slug=(editor.slug.data or "").strip().lower(),
        kind=editor.kind.data or "",
        active=bool(editor.active.data),
        intro=editor.intro.data or "",
        consent_text=editor.consent_text.data or "",
        consent_required=bool(editor.consent_required.data),
        marketing_consent_text=editor.marketing_consent_text.data or "",
        thank_you=editor.thank_you.data or "",
        redirect_url=editor.redirect_url.data or "",
        asset_url=editor.asset_url.data or "",
        asset_name=editor.asset_name.data or "",
        webinar_title=editor.webinar_title.data or "",
        webinar_starts_at=editor.webinar_starts_at.data or "",
        webinar_join_url=editor.webinar_join_url.data or "",
        webinar_duration_minutes=editor.webinar_duration_minutes.data or "",
        visitor_email=bool(editor.visitor_email.data),
        visitor_email_subject=editor.visitor_email_subject.data or "",
        visitor_email_body=editor.visitor_email_body.data or "",
        allowed_origins=editor.allowed_origins.data or "",
        challenge_provider=editor.challenge_provider.data or "",
        challenge_site_key=editor.challenge_site_key.data or "",
        challenge_secret=editor.challenge_secret.data or "",
        challenge_min_score=editor.challenge_min_score.data or "",
        akismet=bool(editor.akismet.data),
        shown=editor.shown.data or [],
        required=editor.required.data or [],
        fields=read_rows(editor)[0] or None,  # no rows posted: shown/required say which contact fields
        destination_ids=editor.destinations.data or [],
        language=editor.language.data or "",
        translations=editor.translations.data or "",
    )


def _save(editor: FormEditor, form_row: Form | None) -> Any:
    """Validate, save and redirect to the editor; on errors, show them next to the fields."""
    if editor.validate_on_submit():
        try:
            saved = save_form(
                get_session(),
                _input(editor),
                form=form_row,
                actor=g.user.email,
                time_zone=current_app.config.get("ADMIN_TIME_ZONE") or "UTC",
            )
            get_session().commit()
        except FormSettingsError as exc:
            show_errors(editor, exc.errors, read_rows(editor)[1])
            for name, message in exc.errors.items():
                if not name.startswith("fields-"):
                    editor[name].errors = [*editor[name].errors, message]
        else:
            flash(f"Saved “{saved.name}”.", "ok")
            return redirect(url_for("admin.form_edit", form_id=saved.id))
    return None


@bp.get("/forms")
@admin_only
def forms() -> str:
    """Every form with its submissions in the last 30 days."""
    db = get_session()
    since = utcnow() - timedelta(days=30)
    counts = dict(
        db.execute(
            select(Submission.form_id, func.count()).where(Submission.received_at >= since).group_by(Submission.form_id)
        ).all()
    )
    rows = db.scalars(select(Form).order_by(Form.active.desc(), Form.name)).all()
    return render_template("admin/forms.html", rows=rows, counts=counts, toggle=LogoutForm())


@bp.route("/forms/new", methods=["GET", "POST"])
@admin_only
def form_new() -> Any:
    """Create a form."""
    editor = _editor(None)
    if request.method == "POST" and (response := _save(editor, None)) is not None:
        return response
    return render_template("admin/form_edit.html", editor=editor, form_row=None), 400 if editor.errors else 200


@bp.route("/forms/<int:form_id>", methods=["GET", "POST"])
@admin_only
def form_edit(form_id: int) -> Any:
    """Edit a form; the embed panel shows its snippets."""
    form_row = get_session().get(Form, form_id) or abort(404)
    editor = _editor(form_row)
    if request.method == "POST" and (response := _save(editor, form_row)) is not None:
        return response
    snippets = {
        "script": script_snippet(form_row, base_url=_base_url()),
        "iframe": iframe_snippet(form_row, base_url=_base_url()),
    }
    return render_template(
        "admin/form_edit.html",
        editor=editor,
        form_row=form_row,
        snippets=snippets,
        hosted_url=f"{_base_url()}/f/{form_row.slug}",
    ), 400 if editor.errors else 200


@bp.post("/forms/<int:form_id>/active")
@admin_only
def form_active(form_id: int) -> Any:
    """Activate or deactivate a form."""
    form_row = get_session().get(Form, form_id) or abort(404)
    if LogoutForm().validate_on_submit():
        set_active(get_session(), form_row, request.form.get("active") == "1", actor=g.user.email)
        get_session().commit()
        flash(f"“{form_row.name}” is now {'active' if form_row.active else 'inactive'}.", "ok")
    return redirect(
        request.referrer if (request.referrer or "").startswith(request.host_url) else url_for("admin.forms")
    )


@bp.post("/forms/preview")
@admin_only
def form_preview() -> Any:
    """The public form as the editor's current (unsaved) values would render it; an inert HTML fragment."""
    editor = FormEditor()
    editor.destinations.choices = []
    editor.language.choices = LANGUAGE_CHOICES
    if not editor.validate_on_submit() and "csrf_token" in editor.errors:
        abort(400)
    data = _input(editor)
    kind = data.kind if data.kind in FORM_KINDS else "download"
    settings = {
        "intro": data.intro,
        "consent_text": data.consent_text,
        "consent_required": data.consent_required,
        "marketing_consent_text": data.marketing_consent_text,
        "shown": list(data.shown),
        "required": list(data.required),
        "fields": preview_fields(data.fields or []),
        "webinar": {"title": data.webinar_title, "starts_at": data.webinar_starts_at},
    }
    form_row = SimpleNamespace(
        name=data.name or "Untitled form",
        slug="preview",
        kind=kind,
        settings=settings,
        translations=_preview_texts(data),
    )
    with force_locale(data.language if data.language in LANGUAGES else "en"):  # the form's own language
        return render_template(
            "admin/form_preview.html", form_row=form_row, form=build_form(kind, settings), preview=True
        )


def _preview_texts(data: FormInput) -> dict[str, Any]:
    """The editor's translation lines as far as they read (the preview shows work in progress)."""
    try:
        return parse_translations(data.translations or "")
    except OverrideError:
        return {}
