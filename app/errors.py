"""Named exceptions and the error pages every audience shares."""

from __future__ import annotations

import time

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    """JSON for API callers and fetch(); HTML for browsers."""
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


MESSAGES = {
    400: _l("The request could not be understood."),
    404: _l("There is no form at this address. Check the link you followed."),
    405: _l("This address does not accept that method."),
    410: _l("This form is no longer accepting submissions."),
    413: _l("What you sent is too large. Shorten the message and try again."),
    429: _l("Too many submissions from your network. Please wait a moment and try again."),
    500: _l("Something went wrong on our side."),
}
# The page titles visitors read (JSON keeps HTTP's English name in "error", for programs).
TITLES = {
    400: _l("Bad request"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    410: _l("No longer available"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
# Where the shared wording is about public forms, the admin says what it means there.
ADMIN_MESSAGES = {
    404: "There is nothing at this address.",
    429: "Too many sign-in attempts. Please wait a few minutes and try again.",
}


def _handle(exc: HTTPException) -> Response:
    code = exc.code or 500
    message = str(MESSAGES.get(code, exc.description or "Error"))
    if request.blueprint == "admin":
        message = ADMIN_MESSAGES.get(code, message)
    if wants_json():
        response = jsonify({"error": exc.name, "message": message})
    else:
        title = str(TITLES[code]) if code in TITLES and request.blueprint != "admin" else exc.name
        response = make_response(render_template("error.html", code=code, title=title, message=message))
    response.status_code = code
    # Flask-Limiter's 429 carries Retry-After on the exception's own response.
    original = getattr(exc, "response", None)
    if original is not None and "Retry-After" in original.headers:
        response.headers["Retry-After"] = original.headers["Retry-After"]
    elif code == 429:
        response.headers["Retry-After"] = str(_retry_after())
    return response


def _retry_after() -> int:
    """Seconds until the breached limit's window resets; the limiter's storage is asked only on a 429."""
    from app.extensions import limiter

    breached = limiter.current_limit
    if breached is None:
        return 60
    try:
        return max(1, int(breached.reset_at - time.time()))
    except RedisError:  # the limiter's storage failing now must not turn a 429 into a 500
        return 60


def register(app: Flask) -> None:
    """Install the shared HTML/JSON error handler."""
    for code in MESSAGES:
        app.register_error_handler(code, _handle)
