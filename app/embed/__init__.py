"""Embedding: the versioned embed.js and the snippets marketers paste."""

from app.embed.routes import bp

__all__ = ["bp"]
