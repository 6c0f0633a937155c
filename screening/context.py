"""What a screening run may consult besides the candidate itself: policy, lists, resolver, activity.

The worker builds a `Context` from configuration and the admin lists
(`app/screening_context.py`); the batch command and the tests build one directly.
Everything is frozen; `screen()` derives a per-run copy that carries the run's DNS budget.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from screening.address import domain_key, email_key
from screening.errors import PolicyError, UnsafePolicyError
from screening.identity import lead_key

if TYPE_CHECKING:
    from screening.disposable import DisposableIndex, MxLedger
    from screening.learned import ModelState
    from screening.resolver import Deadline, MailResolver

# What the policy can do with a category that reached the hold threshold.
REJECT = "reject"
HOLD = "hold"
MARK = "mark"  # accepted, with the category recorded (and visible to routing and reports)
IGNORE = "ignore"  # informational: never changes the verdict
ACTIONS = (REJECT, HOLD, MARK, IGNORE)
# Categories that mean "we could not tell", never "this person is bad": rejecting them would punish
# people for our own failures (ARCHITECTURE: a DNS time-out or SERVFAIL is unknown, never invalid).
NEVER_REJECT: Mapping[str, str] = MappingProxyType(
    {"uncertain": "it holds DNS time-outs and SERVFAIL (our resolver failing, not the person)"}
)

DEFAULT_ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        "spam": REJECT,
        "invalid": REJECT,
        "competitor": HOLD,
        "uncertain": HOLD,
        "origin": HOLD,
        "student": HOLD,
        "academic": MARK,
        "duplicate": HOLD,
        "job_seeker": HOLD,
        "vendor": HOLD,
        "risk": IGNORE,
    }
)


@dataclass(frozen=True)
class Policy:
    """Verdict thresholds, what to do per category, and the tunables of the checks.

    A category "fires" when the weights of its findings add up to `hold_at`; its
    action then applies, except that `reject` needs `reject_at` (a weaker case is
    held instead). The most severe action wins. Findings of several categories
    that add up to `mixed_hold_at` without any one firing hold the submission too.
    """

    hold_at: int = 50
    reject_at: int = 100
    mixed_hold_at: int = 90
    actions: Mapping[str, str] = field(default_factory=lambda: DEFAULT_ACTIONS)
    default_action: str = HOLD
    # Capture signals: a form filled faster than this (seconds) looks like a bot.
    min_fill_seconds: float = 3.0
    # Velocity: more than this many submissions from one IP / one e-mail within the window.
    velocity_window_seconds: int = 600
    ip_burst: int = 10
    email_burst: int = 5
    # Fields longer than this many characters are suspicious (message excluded: see max_message_length).
    max_field_length: int = 120
    max_message_length: int = 5000
    max_message_links: int = 2
    # Optional DNSBL zones asked about the submitter's IP, e.g. ("zen.spamhaus.org",); off by default.
    dnsbl_zones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a policy that would reject people for our own failures, however it was built."""
        reasons = [
            f"{category!r} cannot be {REJECT!r}: {why}; use {HOLD!r} (the default) or {MARK!r}"
            for category, why in NEVER_REJECT.items()
            if self.action_for(category) == REJECT
        ]
        if reasons:
            raise UnsafePolicyError("unsafe screening policy: " + "; ".join(reasons))

    def action_for(self, category: str) -> str:
        """The configured action for a category."""
        return self.actions.get(category, self.default_action)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Policy:
        """Defaults with some keys replaced, e.g. from the SCREENING_POLICY setting.

        `actions` is merged into the defaults, so {"actions": {"student": "mark"}}
        changes only students. Unknown keys and actions raise PolicyError; an action that
        would reject people because our DNS failed raises UnsafePolicyError.
        """
        known = {f.name: f for f in fields(cls)}
        base = cls()
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise PolicyError(f"unknown screening policy setting {key!r}")
            current = getattr(base, key)
            if key == "actions":
                merged = {**current, **dict(value)}
                bad = {c: a for c, a in merged.items() if a not in ACTIONS}
                if bad:
                    raise PolicyError(f"actions must be one of {', '.join(ACTIONS)}: {bad}")
                changes[key] = MappingProxyType(merged)
            elif key == "default_action":
                if value not in ACTIONS:
                    raise PolicyError(f"default_action must be one of {', '.join(ACTIONS)}")
                changes[key] = value
            elif key == "dnsbl_zones":
                changes[key] = tuple(str(z).strip().strip(".") for z in value if str(z).strip())
            else:
                try:
                    changes[key] = type(current)(value)
                except (TypeError, ValueError) as exc:
                    raise PolicyError(f"{key} must be a number, got {value!r}") from exc
        return replace(base, **changes)


@dataclass(frozen=True)
class ListEntry:
    """One admin list value with who added it, when and why (for evidence strings)."""

    value: str
    note: str = ""
    created_by: str = ""
    created_at: datetime | None = None

    def provenance(self) -> str:
        """E.g. 'added by anna on 3 Nov 2026 (main rival)'."""
        parts = []
        if self.created_by:
            parts.append(f"by {self.created_by.split('@')[0] if '@' in self.created_by else self.created_by}")
        if self.created_at is not None:
            parts.append(f"on {self.created_at.day} {self.created_at:%b %Y}")
        text = ("added " + " ".join(parts)) if parts else "on the list"
        return f"{text} ({self.note})" if self.note else text


_COMPANY_SUFFIXES = {
    "inc",
    "incorporated",
    "llc",
    "ltd",
    "limited",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "aps",
    "kk",
    "pte",
    "pty",
    "sl",
    "sro",
    "zoo",
    "group",
    "holding",
    "holdings",
    "the",
}


def company_key(name: str) -> str:
    """A company name without case, accents, punctuation or legal suffix: 'Rival Inc.' -> 'rival'."""
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("&", " and ")
    words = re.findall(r"\w+", text.replace(".", ""))
    while len(words) > 1 and words[-1] in _COMPANY_SUFFIXES:
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def _by_value(entries: Iterable[ListEntry], key: Callable[[str], str]) -> Mapping[str, ListEntry]:
    """Entries keyed by `key(value)`: the same normal form the checks compute for a candidate."""
    return MappingProxyType({key(e.value): e for e in entries if key(e.value)})


@dataclass(frozen=True)
class Lists:
    """The admin lists, compiled once into lookups (sets and maps), as screening compares them."""

    competitor_domains: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    competitor_names: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    blocked_emails: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    blocked_domains: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    blocked_networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ListEntry], ...] = ()
    allowed_emails: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    allowed_domains: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))
    # People sales marked as spam (the feedback link or API), by lead key: their next submissions are held.
    spam_feedback: Mapping[str, ListEntry] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_entries(cls, rows: Iterable[tuple[str, ListEntry]]) -> Lists:
        """From (kind, entry) pairs; kinds as in the admin (competitor_domain, blocked_ip, ...)."""
        grouped: dict[str, list[ListEntry]] = {}
        for kind, entry in rows:
            grouped.setdefault(kind, []).append(entry)
        networks = []
        for entry in grouped.get("blocked_ip", []):
            try:
                networks.append((ipaddress.ip_network(entry.value.strip(), strict=False), entry))
            except ValueError:
                continue  # the admin validates values; an odd legacy row is skipped, not fatal
        return cls(
            competitor_domains=_by_value(grouped.get("competitor_domain", []), domain_key),
            competitor_names=_by_value(grouped.get("competitor_name", []), company_key),
            blocked_emails=_by_value(grouped.get("blocked_email", []), email_key),
            blocked_domains=_by_value(grouped.get("blocked_domain", []), domain_key),
            blocked_networks=tuple(networks),
            allowed_emails=_by_value(grouped.get("allowed_email", []), email_key),
            allowed_domains=_by_value(grouped.get("allowed_domain", []), domain_key),
            spam_feedback=_by_value(grouped.get("spam_feedback_email", []), lead_key),
        )


# recent_activity(kind, value, window_seconds) -> how many submissions (this one included) came
# from that "ip" or "email" within the window.
RecentActivity = Callable[[str, str, int], int]


@dataclass(frozen=True)
class Context:
    """Policy, lists, resolver and activity for screening; built once and reused across runs.

    `resolver` None skips DNS checks (offline batch runs, pure unit tests).
    `dns_budget_seconds` bounds all DNS look-ups of one screening together: time spent waiting on
    DNS counts, time spent on the CPU (or queued behind other threads) does not.
    """

    policy: Policy = field(default_factory=Policy)
    lists: Lists = field(default_factory=Lists)
    resolver: MailResolver | None = None
    dns_budget_seconds: float = 4.0
    recent_activity: RecentActivity | None = None
    # Disposable-address lists (None: the bundled ones) and what was learned about their mail exchangers.
    disposable: DisposableIndex | None = None
    mx_ledger: MxLedger | None = None
    # The spam model learned from this installation's decisions (screening/learned.py); None: no such finding.
    learned: ModelState | None = None
    # Set by screen() for one run: its `DnsBudget` (an absolute time.monotonic() deadline also works).
    deadline: Deadline = None
