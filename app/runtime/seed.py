"""The demo: three forms and one admin, created once and reused on every `make run`."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.users import set_user
from app.models import AuditEvent, Form, User

CONSENT = "I agree that Example Corp may contact me about its products. I can unsubscribe at any time."

DEMO_FORMS: list[dict[str, Any]] = [
    {
        "slug": "whitepaper-lead-quality",
        "name": "Whitepaper: The Lead Quality Playbook",
        "kind": "download",
        "settings": {
            "intro": "Get the 20-page playbook on screening and qualifying inbound leads.",
            "consent_text": CONSENT,
            "thank_you": "Thanks! Your playbook is ready.",
            "asset_url": "/static/demo/lead-quality-playbook.txt",
            "asset_name": "the playbook",
            "allowed_origins": [],
        },
    },
    {
        "slug": "webinar-pipeline-live",
        "name": "Webinar: Pipeline Live",
        "kind": "webinar",
        "settings": {
            "intro": "A 45-minute live session on turning form fills into pipeline.",
            "webinar": {
                "title": "Pipeline Live",
                "starts_at": "2026-12-10 16:00 UTC",
                "join_url": "https://example.com/webinars/pipeline-live",
            },
            "thank_you": "You're registered. See you there!",
            "allowed_origins": [],
        },
    },
    {
        "slug": "request-demo",
        "name": "Request a demo",
        "kind": "demo",
        "settings": {
            "intro": "Tell us about your team and we will show you leadsieve on your own forms.",
            "consent_text": CONSENT,
            "thank_you": "Thanks! A member of our sales team will be in touch within one business day.",
            "allowed_origins": [],
        },
    },
]


def seed_demo(session: Session) -> list[Form]:
    """Create the demo forms that do not exist yet; never duplicates."""
    forms = []
    for spec in DEMO_FORMS:
        form = session.scalars(select(Form).where(Form.slug == spec["slug"])).first()
        if form is None:
            form = Form(slug=spec["slug"], name=spec["name"], kind=spec["kind"], settings=dict(spec["settings"]))
            session.add(form)
            session.flush()
            session.add(
                AuditEvent(
                    actor="seed-demo",
                    action="form.created",
                    subject_type="form",
                    subject_id=form.id,
                    details={"slug": form.slug},
                )
            )
        forms.append(form)
    session.flush()
    return forms


def ensure_admin(session: Session, email: str | None = None) -> tuple[str, str | None]:
    """Create the first admin if there is none; returns (email, password or None if it existed)."""
    existing = session.scalars(select(User).where(User.role == "admin").order_by(User.id)).first()
    if existing is not None:
        return existing.email, None
    email = email or current_app.config["ADMIN_EMAIL"]
    user, password, _ = set_user(session, email=email, actor="seed-demo")
    return user.email, password
