"""`GET /embed.js`: one small script, cached for a year under its content hash."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, request

bp = Blueprint("embed", __name__)

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "embed.js"


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def script_version() -> str:
    """Content hash that snippets put in the script URL (`/embed.js?v=...`)."""
    return _script()[1]


@bp.get("/embed.js")
def script() -> Response:
    """The script, immutable when asked for by its current version, revalidated otherwise."""
    body, version = _script()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(version)
    if request.args.get("v") == version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.make_conditional(request)
    return response
