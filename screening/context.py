"""What a screening run may consult besides the candidate itself."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Policy:
    """Verdict thresholds; the defaults are documented in the README."""

    reject_at: int = 100
    hold_at: int = 50
    reject_categories: frozenset[str] = frozenset({"invalid", "spam"})


@dataclass(frozen=True)
class Context:
    """Lists, resolver and policy for one run; built once per worker and reused."""

    policy: Policy = field(default_factory=Policy)
