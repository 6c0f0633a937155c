"""Creating and editing forms: settings validated once here, used by the admin editor and seed.

A form's settings dict is what capture, the embeds and the thank-you page read,
so everything that goes in is checked: URLs are http(s) only, embed origins are
exact `scheme://host[:port]` values (or `https://*.example.com`), the shown
and required fields are ones the form kind knows, and a webinar's start is an
ISO 8601 time (the e-mail and the calendar file need a real one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.capture.calendar import MAX_DURATION_MINUTES, StartTimeError, parse_starts_at
from app.capture.challenges import PROVIDERS
from app.capture.field_settings import apply_fields
from app.i18n.languages import LANGUAGES
from app.i18n.overrides import OverrideError
from app.i18n.overrides import parse as parse_translations
from app.models import AuditEvent, Destination, Form
from forms import CONTACT_FIELDS, FORM_KINDS

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9.-]+(:\d{1,5})?$")


class FormSettingsError(ValueError):
    """Field name -> message for every problem found."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class FormInput:
    """What the editor posts, as plain values."""

    name: str
    slug: str
    kind: str
    active: bool = True
    intro: str = ""
    consent_text: str = ""
    consent_required: bool = True
    marketing_consent_text: str = ""
    thank_you: str = ""
    redirect_url: str = ""
    asset_url: str = ""
    asset_name: str = ""
    webinar_title: str = ""
    webinar_starts_at: str = ""
    webinar_join_url: str = ""
    webinar_duration_minutes: str = ""
    # The confirmation e-mail to the visitor: None keeps the kind's default (on for downloads and webinars).
    visitor_email: bool | None = None
    visitor_email_subject: str = ""
    visitor_email_body: str = ""
    allowed_origins: str = ""
    # The challenge provider (turnstile, hcaptcha, recaptcha_v3, "" for none; None keeps the current one);
    # an empty secret keeps the stored one (the editor never shows it).
    challenge_provider: str | None = None
    challenge_site_key: str = ""
    challenge_secret: str = ""
    challenge_min_score: str = ""
    akismet: bool | None = None
    shown: Sequence[str] = field(default_factory=tuple)
    required: Sequence[str] = field(default_factory=tuple)
    # The field list in order (forms/field_spec.py); None keeps the stored one (or shown/required make it).
    fields: Sequence[Mapping[str, Any]] | None = None
    destination_ids: Sequence[int] = field(default_factory=tuple)
    # The page's language ("" follows the visitor's browser) and the editor's translation lines
    # (app/i18n/overrides.py); None keeps the stored ones.
    language: str | None = None
    translations: str | None = None


def parse_origins(text: str) -> list[str]:
    """One origin per line or comma; raises ValueError naming the first bad one."""
    origins = []
    for raw in re.split(r"[\s,]+", text.strip()):
        if not raw:
            continue
        origin = raw.lower().rstrip("/")
        if not ORIGIN.match(origin):
            raise ValueError(f"{raw!r} is not an origin like https://www.example.com or https://*.example.com")
        if origin not in origins:
            origins.append(origin)
    return origins


def _url(value: str, *, allow_relative: bool = False) -> str:
    value = value.strip()
    if not value:
        return ""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain spaces or line breaks")
    if allow_relative and value.startswith("/") and not value.startswith("//"):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// address")
    return value


def _starts_at(value: str, time_zone: str) -> str:
    """The webinar's start as stored: ISO 8601 with its offset (a time without one is in `time_zone`)."""
    if not value.strip():
        return ""
    return parse_starts_at(value, default_zone=ZoneInfo(time_zone)).isoformat(timespec="minutes")


def _duration(value: str) -> int:
    text = value.strip()
    if not text:
        return 60
    if not text.isdigit() or not 1 <= int(text) <= MAX_DURATION_MINUTES:
        raise ValueError(f"give the length in minutes, 1 to {MAX_DURATION_MINUTES}")
    return int(text)


def build_settings(
    data: FormInput, previous: dict[str, Any] | None = None, *, time_zone: str = "UTC"
) -> dict[str, Any]:
    """A validated settings dict; FormSettingsError lists every problem. A webinar start given without an
    offset is taken in `time_zone` (the admin's)."""
    errors: dict[str, str] = {}
    settings = dict(previous or {})
    if data.kind not in FORM_KINDS:
        errors["kind"] = f"choose one of {', '.join(FORM_KINDS)}"
    if not SLUG.match(data.slug):
        errors["slug"] = "use lower-case letters, digits and hyphens (e.g. q4-demo)"
    if not data.name.strip():
        errors["name"] = "give the form a name"
    for key in ("intro", "consent_text", "thank_you", "asset_name"):
        settings[key] = getattr(data, key).strip()
    settings["consent_required"] = data.consent_required
    settings["marketing_consent_text"] = data.marketing_consent_text.strip()
    for key, relative in (("redirect_url", False), ("asset_url", True)):
        try:
            settings[key] = _url(getattr(data, key), allow_relative=relative)
        except ValueError as exc:
            errors[key] = str(exc)
    try:
        join_url = _url(data.webinar_join_url)
    except ValueError as exc:
        errors["webinar_join_url"] = str(exc)
        join_url = ""
    starts_at, duration = "", 60
    if data.kind == "webinar":
        try:
            starts_at = _starts_at(data.webinar_starts_at, time_zone)
        except StartTimeError as exc:
            errors["webinar_starts_at"] = str(exc)
        try:
            duration = _duration(data.webinar_duration_minutes)
        except ValueError as exc:
            errors["webinar_duration_minutes"] = str(exc)
        settings["webinar"] = {
            "title": data.webinar_title.strip(),
            "starts_at": starts_at,
            "duration_minutes": duration,
            "join_url": join_url,
        }
    else:
        settings.pop("webinar", None)
    email = dict(settings.get("visitor_email") or {})
    if data.visitor_email is not None:
        email["enabled"] = data.visitor_email
    email["subject"] = " ".join(data.visitor_email_subject.split())[:200]
    email["body"] = data.visitor_email_body.strip()
    settings["visitor_email"] = email
    try:
        settings["allowed_origins"] = parse_origins(data.allowed_origins)
    except ValueError as exc:
        errors["allowed_origins"] = str(exc)
    _challenge(data, settings, errors)
    settings["shown"] = [n for n in CONTACT_FIELDS if n == "email" or n in data.shown or n in data.required]
    settings["required"] = [n for n in CONTACT_FIELDS if n == "email" or n in data.required]
    if data.language is not None:
        if data.language and data.language not in LANGUAGES:
            errors["language"] = f"choose one of {', '.join(LANGUAGES)}, or the visitor's browser"
        settings["language"] = data.language if data.language in LANGUAGES else ""
    if data.fields is not None:
        apply_fields(settings, data.fields, errors)
    elif data.shown or data.required:
        settings.pop("fields", None)  # shown/required given instead of a list: the kind's list for them
    if errors:
        raise FormSettingsError(errors)
    return settings


def _challenge(data: FormInput, settings: dict[str, Any], errors: dict[str, str]) -> None:
    """The form's challenge provider and Akismet flag, checked: a provider needs a site key and a secret."""
    if data.akismet is not None:
        settings["akismet"] = data.akismet
    if data.challenge_provider is None:
        return
    provider = data.challenge_provider.strip()
    if not provider:
        settings.pop("challenge", None)
        return
    if provider not in PROVIDERS:
        errors["challenge_provider"] = f"choose one of {', '.join(PROVIDERS)} or none"
        return
    previous = dict(settings.get("challenge") or {})
    site_key = data.challenge_site_key.strip()
    secret = data.challenge_secret.strip() or previous.get("secret", "")
    if not site_key or any(c.isspace() for c in site_key):
        errors["challenge_site_key"] = "give the provider's site key"
    if not secret:
        errors["challenge_secret"] = "give the provider's secret key"
    min_score = 0.5
    if data.challenge_min_score.strip():
        try:
            min_score = float(data.challenge_min_score)
        except ValueError:
            min_score = -1.0
        if not 0.0 <= min_score <= 1.0:
            errors["challenge_min_score"] = "give a score from 0.0 to 1.0 (0.5 is Google's suggestion)"
    elif "min_score" in previous:
        min_score = float(previous["min_score"])
    settings["challenge"] = {"provider": provider, "site_key": site_key, "secret": secret, "min_score": min_score}


def save_form(session: Session, data: FormInput, *, form: Form | None, actor: str, time_zone: str = "UTC") -> Form:
    """Create or update a form and which destinations receive its leads; audited."""
    settings = build_settings(data, form.settings if form is not None else None, time_zone=time_zone)
    try:
        translations = parse_translations(data.translations) if data.translations is not None else None
    except OverrideError as exc:
        raise FormSettingsError({"translations": str(exc)}) from exc
    clash = session.scalars(select(Form.id).where(Form.slug == data.slug)).first()
    if clash is not None and (form is None or clash != form.id):
        raise FormSettingsError({"slug": f"another form already uses /f/{data.slug}"})
    created = form is None
    if form is None:
        form = Form(slug=data.slug, name=data.name.strip(), kind=data.kind)
        session.add(form)
    old_slug = form.slug
    form.slug, form.name, form.kind, form.active = data.slug, data.name.strip()[:200], data.kind, data.active
    form.settings = settings
    if translations is not None:
        form.translations = translations
    session.flush()
    _route_form(session, old_slug=old_slug, slug=form.slug, chosen=set(data.destination_ids))
    session.add(
        AuditEvent(
            actor=actor,
            action="form.created" if created else "form.updated",
            subject_type="form",
            subject_id=form.id,
            details={
                "slug": form.slug,
                "active": form.active,
                "fields": [f["key"] for f in settings.get("fields", [])],
            },
        )
    )
    session.flush()
    return form


def destinations_for(session: Session, slug: str) -> list[int]:
    """Ids of active destinations whose routing covers this form."""
    return [d.id for d in _destinations(session) if not d.forms or slug in d.forms]


def _destinations(session: Session) -> Iterable[Destination]:
    return session.scalars(select(Destination).where(Destination.active.is_(True)).order_by(Destination.id))


def _route_form(session: Session, *, old_slug: str, slug: str, chosen: set[int]) -> None:
    """Make each destination's form list agree with the editor's ticks.

    An empty list means "every form", so un-ticking such a destination turns its
    list into every other form.
    """
    all_slugs = list(session.scalars(select(Form.slug).order_by(Form.id)))
    for destination in _destinations(session):
        forms = [slug if s == old_slug else s for s in (destination.forms or [])]
        covers = not forms or slug in forms
        if destination.id in chosen and not covers:
            forms.append(slug)
        elif destination.id not in chosen and covers:
            forms = [s for s in (forms or all_slugs) if s != slug]
            if not forms:
                destination.active = False  # it covered only this form; keep it but stop sending
        destination.forms = forms


def set_active(session: Session, form: Form, active: bool, *, actor: str) -> None:
    """Activate or deactivate; a deactivated form answers 404 and its embeds say so."""
    form.active = active
    session.add(
        AuditEvent(
            actor=actor,
            action="form.activated" if active else "form.deactivated",
            subject_type="form",
            subject_id=form.id,
            details={"slug": form.slug},
        )
    )
    session.flush()
