"""What the CRM adapters share: static extra fields from the destination's options."""

from __future__ import annotations

from typing import Any

FIELD_PREFIX = "field."


def extra_fields(options: dict[str, Any]) -> dict[str, str]:
    """Options named "field.<name>" become a fixed field <name> on every submission."""
    return {
        key[len(FIELD_PREFIX) :]: str(value)
        for key, value in options.items()
        if key.startswith(FIELD_PREFIX) and len(key) > len(FIELD_PREFIX)
    }
