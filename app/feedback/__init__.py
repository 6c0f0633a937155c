"""Sales feedback: the signed link in every forwarded lead, and its JSON twin."""

from app.feedback.routes import bp

__all__ = ["bp"]
