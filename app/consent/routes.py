"""The visitor's consent links: confirm marketing consent (/c/<token>) and unsubscribe (/u/<token>).

Both are authorised by their signed token, not a session (no CSRF token: the visitor comes from an
e-mail). A GET only shows a page with a button, so a mail scanner that follows links changes nothing;
the POST acts. An unsubscribe POST is also RFC 8058's one-click request from the mail client
(`List-Unsubscribe=One-Click` in the body), which needs no page at all. Thin: read the token, call the
service, commit, enqueue.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import force_locale

from app.consent import opt_in, unsubscribe
from app.db import get_session
from app.forwarding.routing import feedback_token
from app.models import Lead
from app.runtime.queues import enqueue_delivery
from app.statuses import OptInStatus

bp = Blueprint("consent", __name__)


@bp.app_template_global("marketing_consent_status")
def _marketing_consent_status(lead: Lead) -> str:
    """For the admin's lead page: confirmed, awaiting, not confirmed, or unsubscribed."""
    return opt_in.marketing_status(get_session(), lead)


@bp.app_template_filter("consent_summary")
def _consent_summary(consents: dict[str, Any] | None) -> str:
    """For the admin's submission page: each box shown, ticked or not, with its text's version."""
    parts = [
        f"{kind}: {'yes' if record.get('given') is True else 'no'} (version {record.get('version') or '?'})"
        for kind, record in (consents or {}).items()
        if isinstance(record, dict)
    ]
    return "; ".join(parts) or "no consent box"


def _page(template: str, status: int = 200, *, language: str = "", **values: Any) -> tuple[str, int, dict[str, str]]:
    """A consent page in the visitor's language (that of the form they filled; else their browser's):
    never cached, never indexed."""
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    if not language:
        return render_template(template, **values), status, headers
    with force_locale(language):
        return render_template(template, **values), status, headers


@bp.route("/c/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    """GET: a button to confirm marketing consent; POST: confirm and release the held deliveries."""

    config = current_app.config
    opt_in_id = opt_in.read_opt_in_token(
        config["SECRET_KEY"],
        token,
        max_age=config["OPT_IN_CONFIRM_HOURS"] * 3600,
        fallbacks=config.get("SECRET_KEY_FALLBACKS", ()),
    )
    if opt_in_id is None:
        return _page("consent/confirm.html", 404, state="invalid")
    session = get_session()
    language = opt_in.language_of(session, opt_in_id)
    if request.method == "GET":
        return _page("consent/confirm.html", state="ask", language=language)
    status, released = opt_in.confirm(session, opt_in_id)
    session.commit()
    for delivery_id in released:
        enqueue_delivery(delivery_id, 0)
    if status != OptInStatus.CONFIRMED:
        return _page("consent/confirm.html", 410, state="expired", language=language)
    return _page("consent/confirm.html", state="confirmed", language=language)


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe_link(token: str) -> Any:
    """GET: a button to unsubscribe; POST (the button, or the mail client's one-click): withdraw."""

    config = current_app.config
    lead_id = unsubscribe.read_unsubscribe_token(
        config["SECRET_KEY"], token, fallbacks=config.get("SECRET_KEY_FALLBACKS", ())
    )
    if lead_id is None:
        return _page("consent/unsubscribe.html", 404, state="invalid")
    session = get_session()
    language = unsubscribe.language_of(session, lead_id)
    if request.method == "GET":
        return _page("consent/unsubscribe.html", state="ask", language=language)
    feedback_url = f"{config['PUBLIC_BASE_URL']}/feedback/{feedback_token(config['SECRET_KEY'], lead_id)}"
    created = unsubscribe.withdraw(session, lead_id, feedback_url=feedback_url)
    session.commit()
    for delivery_id in created or []:
        enqueue_delivery(delivery_id, 0)
    return _page("consent/unsubscribe.html", state="done", language=language)
