"""The request id: one per HTTP request, stored on the submission, carried into its RQ jobs.

In a web request it lives in `flask.g`; in the worker it lives in the meta of the
job being run (`rq.get_current_job()`), so jobs enqueued from a job (screening →
delivery, delivery → retry) inherit it without any argument being threaded through.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, has_request_context, request
from rq import Queue, get_current_job
from werkzeug.wrappers import Response

HEADER = "X-Request-ID"
META_KEY = "request_id"
# An incoming id is honoured only if it is short and plain: it is logged, echoed and stored.
SANE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def sane_request_id(value: str | None) -> str | None:
    """`value` if it is a usable request id (1–64 chars of [A-Za-z0-9._:-]), else None."""
    return value if value and SANE.match(value) else None


def new_request_id() -> str:
    """A fresh random id (32 hex characters)."""
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the HTTP request or RQ job being handled right now, if any."""
    if has_request_context():
        return g.get("request_id")
    job = get_current_job()
    if job is not None:
        return job.meta.get(META_KEY)
    return None


def job_meta() -> dict[str, str]:
    """Meta for a job enqueued now: carries the current request id, if there is one."""
    request_id = current_request_id()
    return {META_KEY: request_id} if request_id else {}


def bind_job_request_id(request_id: str | None) -> None:
    """Inside a job without an id in its meta (e.g. re-enqueued by the sweeper), adopt the stored one.

    Only the in-memory job object changes: log lines and jobs enqueued from here on carry it.
    """
    job = get_current_job()
    if job is not None and request_id and not job.meta.get(META_KEY):
        job.meta[META_KEY] = request_id


class RequestIdQueue(Queue):
    """An RQ queue whose new jobs carry the current request id in their meta (`job_meta()`)."""

    def create_job(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Every enqueue path (now, at, in) builds its job here."""
        kwargs["meta"] = {**job_meta(), **(kwargs.get("meta") or {})}
        return super().create_job(*args, **kwargs)


def install_request_id(app: Flask) -> None:
    """Give every request an id (the caller's X-Request-ID if sane) and echo it in the response."""

    @app.before_request
    def _assign_request_id() -> None:
        g.request_id = sane_request_id(request.headers.get(HEADER)) or new_request_id()

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
        return response
