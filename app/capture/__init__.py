"""Public capture: GET/POST /f/<slug>."""

from app.capture.routes import bp

__all__ = ["bp"]
