"""Admin blueprint: one module per page family, all behind login and CSRF."""

from app.admin import auth, dashboard, destination_pages, form_pages, leads, lists, privacy, queue  # noqa: F401
from app.admin.blueprint import bp

__all__ = ["bp"]
