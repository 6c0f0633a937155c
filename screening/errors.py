"""Named exceptions of the screening package."""

from __future__ import annotations


class ScreeningError(Exception):
    """Base of every error screening raises on purpose."""


class PolicyError(ScreeningError, ValueError):
    """A screening policy setting is unknown or has a value that cannot work."""


class BatchInputError(ScreeningError):
    """A batch input file cannot be read at all (one bad row is not this: it is reported and skipped)."""


class UnsafePolicyError(PolicyError):
    """A policy that would break a data-safety rule, e.g. rejecting people because our DNS failed."""
