"""Admin blueprint: one module per page family, named after the service it calls; all behind login and CSRF."""

from app.admin import (  # noqa: F401
    alerts,
    answers,
    auth,
    dashboard,
    destinations,
    form_settings,
    formatting,
    leads,
    lists,
    notices,
    owners,
    privacy,
    reporting,
    review,
    scoring_rules,
    submissions,
    users,
)
from app.admin.blueprint import bp

__all__ = ["bp"]
