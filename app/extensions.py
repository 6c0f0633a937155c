"""Extensions, created unbound here and bound in `create_app()`."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _capture_counts_its_own() -> bool:
    """Public form posts are counted by app/capture/gate.py (one Redis round trip that also reads the forms'
    version); Flask-Limiter's pass before every request would only evaluate them again to count nothing."""
    return request.blueprint == "capture"
