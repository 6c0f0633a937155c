"""Views for the hosted form page and its POST endpoint. Thin: parse, call the service, answer."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.capture.calendar import StartTimeError, Webinar, ics, local_when_text, parse_starts_at, webinar_of
from app.capture.challenges import widget, with_provider
from app.capture.cors import allowed_origin, cors_headers, frame_ancestors
from app.capture.form_cache import FormCache, PublicForm
from app.capture.gate import check_capture, too_many
from app.capture.link import RedisLink, transaction
from app.capture.service import RequestContext, capture_submission
from app.capture.signals import capture_signals, origin_of
from app.capture.thanks import ThanksRef, absolute_url, read_thanks_token, sends_visitor_email, thanks_token
from app.capture.tokens import issue_token, read_token
from app.capture.visitor_email import calendar_uid
from app.db import autocommit_connection, get_session
from app.errors import wants_json
from app.i18n import current_language, form_text
from app.i18n.embed import embed_texts
from app.models import utcnow
from app.privacy.erasure import truncate_ip
from app.runtime.queues import is_sales_request, queue_screening
from app.security import PUBLIC_CSP
from forms import CONTEXT_FIELDS, build_form
from forms.dynamic import FieldListForm
from forms.fields import clean_line

# Ad-platform click ids the embed carries from the host page; kept in the submission's raw fields.
CLICK_IDS = ("gclid", "fbclid", "msclkid", "li_fat_id", "ttclid", "wbraid", "gbraid")
# Contact fields a link may prefill (`/f/demo?email=ada@acme.com`), where the form shows them. Never the
# consent box (consent is the visitor's own act), nor the free-text message, nor the signed token.
PREFILL_FIELDS = ("email", "first_name", "last_name", "company", "job_title", "phone", "country")

log = logging.getLogger(__name__)

bp = Blueprint("capture", __name__)


@bp.context_processor
def _embed_context_fields() -> dict[str, Any]:
    """The host-page fields the iframe may take from embed.js (frame.js reads them from the page):
    context as hidden fields, and the prefill allow-list into the contact fields the form shows."""
    return {
        "embed_context_fields": " ".join((*CONTEXT_FIELDS, *CLICK_IDS)),
        "embed_prefill_fields": " ".join(PREFILL_FIELDS),
    }


@bp.app_template_filter("webinar_time")
def _webinar_time(value: Any) -> str:
    """A webinar's stored start as people read it (`Thursday 10 December 2026, 16:00 UTC`); text that is
    not ISO 8601 (forms saved before it had to be) is shown as written."""
    try:
        return local_when_text(parse_starts_at(str(value or "")), current_language())
    except StartTimeError:
        return str(value or "")


# Endpoints a script on another origin may call.
CORS_ENDPOINTS = {"capture.submit", "capture.show", "capture.token"}


class BadPayload(ValueError):
    """A JSON body that is not an object of scalar values."""


def _form_row(slug: str) -> PublicForm | None:
    """The form from this process's cache (app/capture/form_cache.py). A post has the forms' version from
    its rate-limit round trip already (`g.forms_version`); other requests ask Redis for it."""
    forms: FormCache = current_app.extensions["leadsieve.form_cache"]
    version = g.forms_version if "forms_version" in g else forms.version()
    return forms.get(get_session, slug, version)


def _load(slug: str) -> PublicForm:
    form_row = _form_row(slug)
    g.form_row = form_row
    if form_row is None:
        abort(404)
    if not form_row.active:
        abort(410)
    return form_row


def _layout() -> str:
    return "embed_base.html" if request.args.get("embed") == "1" else "public_base.html"


@bp.after_request
def _cross_origin(response: Response) -> Response:
    """CORS and frame-ancestors from the form's allowed origins, on every answer (errors too)."""
    slug = (request.view_args or {}).get("slug")
    if not slug:
        return response
    form_row = g.get("form_row", False)
    if form_row is False:
        form_row = _form_row(slug)
    allowed = list(form_row.settings.get("allowed_origins", [])) if form_row is not None else []
    if request.endpoint in CORS_ENDPOINTS or request.method == "OPTIONS":
        response.headers.update(
            cors_headers(request.headers.get("Origin"), allowed, preflight=request.method == "OPTIONS")
        )
        response.vary.add("Origin")
    csp = with_provider(PUBLIC_CSP, form_row.settings) if form_row is not None else PUBLIC_CSP
    response.headers["Content-Security-Policy"] = f"{csp}; {frame_ancestors(allowed)}"
    return response


def _build_form(form_row: PublicForm, formdata: MultiDict[str, str] | None = None) -> FieldListForm:
    return build_form(form_row.kind, form_row.settings, formdata)


def _post_form(form_row: PublicForm, formdata: MultiDict[str, str]) -> FieldListForm:
    """The form kind's WTForms form holding this post. Built once per thread and cached form (binding
    some 20 fields is most of a form's cost), then only processed again per post: the same fields, filters
    and validators, so the same answers and messages."""
    form: FieldListForm | None = getattr(form_row.local, "form", None)
    if form is None:
        form = form_row.local.form = _build_form(form_row)
    form.reprocess(formdata)
    return form


def _payload() -> MultiDict[str, str]:
    """The posted fields as strings, from a form body or a JSON object."""
    if not request.is_json:
        return MultiDict(request.form)
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:  # a body nested thousands of levels deep: refused, not a 500
        raise BadPayload("The body is nested too deeply; send a flat JSON object of field names to values.") from exc
    if not isinstance(data, dict):
        raise BadPayload("The body must be a JSON object of field names to values.")
    fields: MultiDict[str, str] = MultiDict()
    for key, value in data.items():
        name = _valid_text(str(key))
        if isinstance(value, bool):
            if value:
                fields.add(name, "y")
        elif isinstance(value, str | int | float):
            fields.add(name, _valid_text(str(value)))
        elif isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            for item in value:  # several choices of one field (multiple checkboxes)
                fields.add(name, _valid_text(str(item)))
        elif value is not None:
            raise BadPayload(f"Field {name!r} must be text, not {type(value).__name__}.")
    return fields


def _valid_text(text: str) -> str:
    """JSON may carry lone UTF-16 surrogates ("\\ud800") that no database can store: each becomes U+FFFD,
    so the submission is kept, cleaned, instead of failing on insert."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _client_ip() -> str | None:
    """The visitor's address, truncated to its network when IP_TRUNCATE is on (app/privacy.py)."""
    if current_app.config.get("IP_TRUNCATE"):
        return truncate_ip(request.remote_addr)
    return request.remote_addr


def _parent_origin(form_row: PublicForm) -> str | None:
    """The embedding page's origin, if it may receive our height messages."""
    claimed = request.args.get("parent") or origin_of(request.referrer)
    return allowed_origin(claimed, form_row.settings.get("allowed_origins", []))


def _render_form(form_row: PublicForm, form: FieldListForm, *, embed: bool) -> str:
    return render_template(
        "capture/form.html",
        form_row=form_row,
        form=form,
        layout=_layout() if not embed else "embed_base.html",
        embed=embed,
        parent_origin=_parent_origin(form_row) if embed else None,
        click_ids=_click_ids(request.values),
        embed_prefill_fields=" ".join(form.prefill_keys()),  # what frame.js may fill from the host page's URL
        challenge=widget(form_row.settings),
    )


def _click_ids(values: Any) -> dict[str, str]:
    return {name: values.get(name, "")[:200] for name in CLICK_IDS if values.get(name)}


@bp.get("/f/<slug>")
def show(slug: str) -> str:
    """The standalone, accessible form page."""
    return _page(slug, embed=False)


@bp.get("/f/<slug>/embed")
def embed(slug: str) -> str:
    """The same form for an iframe: no page chrome, framing governed by the allowed origins."""
    return _page(slug, embed=True)


def _page(slug: str, *, embed: bool) -> str:
    form_row = _load(slug)
    form = _build_form(form_row)
    form.token.data = issue_token(current_app.config["SECRET_KEY"], form_row.id)
    for name in CONTEXT_FIELDS:
        form[name].data = clean_line(request.args.get(name, ""))[: 200 if name.startswith("utm_") else 2048]
    _prefill(form)
    if not form.referrer.data and not embed:
        form.referrer.data = (request.referrer or "")[:2048]
    if not form.page_url.data and not embed:
        form.page_url.data = request.url[:2048]
    return _render_form(form_row, form, embed=embed)


def _prefill(form: FieldListForm) -> None:
    """The fields the form lets a link fill in (allow-listed per field, forms/dynamic.py); never consent."""
    form.prefill(request.args)


@bp.get("/f/<slug>/token")
def token(slug: str) -> Any:
    """A fresh signed token for a form on another site (embed.js asks before upgrading a form)."""
    form_row = _load(slug)
    response = jsonify(
        {
            "token": issue_token(current_app.config["SECRET_KEY"], form_row.id),
            "max_age": current_app.config["FORM_TOKEN_MAX_AGE"],
            **embed_texts(form_row, _build_form(form_row)),  # the visitor's language for the script embed
        }
    )
    response.vary.add("Accept-Language")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/f/<slug>")
def submit(slug: str) -> Any:
    """Count (RATELIMIT_CAPTURE), validate, store, queue screening; answer with the thank-you (HTML) or
    202 (JSON)."""
    verdict = check_capture()  # one Redis round trip: the rate limit and the forms' version
    g.forms_version = verdict.version
    if verdict.retry_after:
        raise too_many(verdict.retry_after)
    form_row = _load(slug)
    try:
        formdata = _payload()
    except BadPayload as exc:
        return jsonify({"error": "Bad Request", "message": str(exc)}), 400
    form = _post_form(form_row, formdata)
    if not form.validate():
        if wants_json():
            return jsonify(
                {"error": "Bad Request", "message": gettext("Some fields need attention."), "fields": form.errors}
            ), 400
        return _render_form(form_row, form, embed=request.args.get("embed") == "1"), 400

    config = current_app.config
    token = read_token(
        config["SECRET_KEY"],
        form.token.data,
        form_id=form_row.id,
        max_age=config["FORM_TOKEN_MAX_AGE"],
        static_max_age=config["STATIC_TOKEN_MAX_AGE"],
        fallbacks=config.get("SECRET_KEY_FALLBACKS", ()),
    )
    signals = capture_signals(
        token=token,
        honeypot=form.website.data or "",
        origin=request.headers.get("Origin"),
        referer=request.headers.get("Referer"),
        allowed_origins=form_row.settings.get("allowed_origins", []),
        own_origins=[origin_of(request.host_url) or "", origin_of(config["PUBLIC_BASE_URL"]) or ""],
    )
    raw = {key: value for key, value in formdata.items() if key != "token"}
    # clean_line: a NUL (or other control character) in the header would make PostgreSQL refuse the row.
    context = RequestContext(
        ip=_client_ip(),
        user_agent=clean_line(request.user_agent.string or ""),
        raw=raw,
        signals=signals,
        request_id=g.get("request_id"),
        language=current_language(),
    )
    submission_id = _store(form_row, form, context)  # stored before the visitor is answered
    _queue_screening(submission_id, sales=is_sales_request(form_row.kind))
    return _thank(form_row, submission_id)


def _queue_screening(submission_id: int, *, sales: bool) -> None:
    """Queue the screening job (sales requests in their fast lane) without waiting for Redis to confirm it
    (app/capture/link.py): best effort, the sweeper queues whatever this misses."""
    what = f"the screening job of submission {submission_id}"
    pipeline = current_app.extensions["leadsieve.redis"].pipeline()  # records the commands, never executed
    try:
        queue_screening(pipeline, submission_id, sales=sales)  # RQ asks a new queue for Redis's version once
    except RedisError as exc:
        log.warning("could not send %s (%s); the sweeper will retry", what, exc)
        return
    link: RedisLink = current_app.extensions["leadsieve.capture_link"]
    link.send(transaction(pipeline), what=what)


def _store(form_row: PublicForm, form: FieldListForm, context: RequestContext) -> int:
    """Insert the submission; it is committed, durably, when this returns, whatever happens to Redis next.

    One statement in autocommit (app/db.py `autocommit_connection`): on PostgreSQL one round trip instead of
    BEGIN, INSERT and COMMIT. A pooled connection the database dropped (a restart: nothing pings them any
    more) fails its first statement and SQLAlchemy replaces the pool; the insert is then tried once more, so
    the visitor gets no error for it. (Had the database committed the first try before the connection went,
    the retry stores the post twice, which screening treats as a double click; a lost post it never is.)"""
    for attempt in (1, 2):
        try:
            with autocommit_connection() as connection:
                submission_id = capture_submission(connection, form_row=form_row, form=form, request=context)
                connection.commit()
                return submission_id
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
            log.warning("capture: the database dropped a pooled connection (%s); storing again", exc.orig)
    raise AssertionError("unreachable")


def _message(form_row: PublicForm) -> str:
    """The thank-you text in the page's language: the marketer's translation, their text, or ours."""
    default = form_row.settings.get("thank_you") or gettext("Thank you! We have received your details.")
    return str(form_text(form_row, "thank_you", default))


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")


def _webinar(form_row: PublicForm) -> Webinar | None:
    return webinar_of(form_row.name, form_row.settings) if form_row.kind == "webinar" else None


def _calendar_url(form_row: PublicForm, token: str) -> str:
    """The absolute "Add to calendar" link of a webinar with a start time, else ""."""
    webinar = _webinar(form_row)
    if webinar is None or webinar.starts_at is None:
        return ""
    return _base_url() + url_for("capture.calendar", slug=form_row.slug, token=token)


def _thank(form_row: PublicForm, submission_id: int) -> Any:
    """The same thank-you whatever screening will decide: visitors never learn the verdict.

    HTML posts are answered with a 303 to the signed thank-you page (post, redirect, get), so a
    refresh does not post again; JSON gets 202 with absolute links."""
    settings = form_row.settings
    token = thanks_token(current_app.config["SECRET_KEY"], form_id=form_row.id, submission_id=submission_id)
    if wants_json():
        body = {"id": submission_id, "message": _message(form_row)}
        if settings.get("redirect_url"):
            body["redirect_url"] = settings["redirect_url"]
        if settings.get("asset_url"):
            body["asset_url"] = absolute_url(settings["asset_url"], _base_url())
        if calendar_url := _calendar_url(form_row, token):
            body["calendar_url"] = calendar_url
        return jsonify(body), 202
    if settings.get("redirect_url"):
        return redirect(settings["redirect_url"], code=303)
    # An iframe's post stays in the frame: the thank-you page keeps its layout and its parent origin.
    values: dict[str, Any] = {key: request.args[key] for key in ("embed", "parent") if request.args.get(key)}
    return redirect(url_for("capture.thanks", slug=form_row.slug, token=token, **values), code=303)


def _thanks_ref(form_row: PublicForm, token: str) -> ThanksRef:
    """The submission a thank-you link names; 404 unless the token is genuine, fresh and for this form.

    The submission itself is never looked up: whether it still exists (rejected ones are purged)
    would tell the visitor the verdict."""
    config = current_app.config
    ref = read_thanks_token(config["SECRET_KEY"], token, fallbacks=config.get("SECRET_KEY_FALLBACKS", ()))
    if ref is None or ref.form_id != form_row.id:
        abort(404)
    return ref


@bp.get("/f/<slug>/thanks/<token>")
def thanks(slug: str, token: str) -> Any:
    """The thank-you page a post is redirected to; a refresh shows it again and posts nothing."""
    form_row = _load(slug)
    _thanks_ref(form_row, token)
    config = current_app.config
    webinar = _webinar(form_row)
    response = current_app.make_response(
        render_template(
            "capture/thanks.html",
            form_row=form_row,
            message=_message(form_row),
            asset_url=absolute_url(form_row.settings.get("asset_url", ""), _base_url()),
            asset_name=form_row.settings.get("asset_name") or "",
            webinar=webinar,
            when=local_when_text(webinar.starts_at, current_language())
            if webinar is not None and webinar.starts_at
            else "",
            calendar_url=_calendar_url(form_row, token),
            promises_email=sends_visitor_email(form_row.kind, form_row.settings, smtp_url=config["SMTP_URL"]),
            layout=_layout(),
            parent_origin=_parent_origin(form_row) if request.args.get("embed") == "1" else None,
        )
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/f/<slug>/thanks/<token>/calendar.ics")
def calendar(slug: str, token: str) -> Response:
    """The webinar as an .ics file ("Add to calendar"), for whoever holds a thank-you link."""
    form_row = _load(slug)
    _thanks_ref(form_row, token)
    webinar = _webinar(form_row)
    if webinar is None or webinar.starts_at is None:
        abort(404)
    body = ics(
        webinar,
        uid=calendar_uid(form_row.id, _base_url()),
        now=utcnow(),
        description=str(form_row.settings.get("intro") or ""),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{form_row.slug}.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response
