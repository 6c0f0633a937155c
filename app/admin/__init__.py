"""Admin blueprint: login and the submissions overview (the full admin is a later issue)."""

from app.admin.routes import bp

__all__ = ["bp"]
