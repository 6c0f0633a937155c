"""Changing the scoring rules: a saved snapshot read back exactly, what changed, and what new rules do
to a lead that already exists. Pure, like screening/scoring.py: rules and fills arrive as values.

A re-score never moves a lead backward and never touches a stage a person chose: `plan_rescore`
answers *promote* (the new rules support a higher stage), *suggest* (they would support a lower one:
recorded for a person to act on, not applied), *keep* or *pinned* (a person's stage, a side state,
or a stage only sales' feedback reaches).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from screening.model import Stage
from screening.scoring import (
    Fill,
    ScoreCard,
    ScoringRules,
    counted,
    decide_stage,
    score_lead,
    stage_rank,
)


def rules_from_stored(values: Mapping[str, Any]) -> ScoringRules:
    """Rules from a full snapshot (`ScoringRules.as_dict()`): every table as stored, not merged with the
    defaults, so a row someone removed stays removed. Keys missing from an older snapshot take the
    defaults; ValueError names a malformed or unknown rule."""
    merged = ScoringRules.from_mapping(values)  # types checked and converted, tables merged with defaults
    exact: dict[str, Any] = {
        name: MappingProxyType({str(k): int(v) for k, v in value.items()})
        for name, value in values.items()
        if isinstance(value, Mapping)
    }
    return replace(merged, **exact)


def rules_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two snapshots, per rule: numbers and lists as {"from", "to"}; tables per
    entry, {"added", "removed", "changed": {key: {"from", "to"}}} (empty parts left out)."""
    diff: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            table: dict[str, Any] = {}
            added = {k: new[k] for k in sorted(new) if k not in old}
            removed = {k: old[k] for k in sorted(old) if k not in new}
            changed = {k: {"from": old[k], "to": new[k]} for k in sorted(old) if k in new and old[k] != new[k]}
            for part, value in (("added", added), ("removed", removed), ("changed", changed)):
                if value:
                    table[part] = value
            diff[name] = table
        else:
            diff[name] = {"from": old, "to": new}
    return diff


def diff_lines(diff: Mapping[str, Any]) -> list[str]:
    """The diff as short sentences for the history ("sql_min_fit: 10 → 0", "countries de added: 10")."""
    lines = []
    for name, change in diff.items():
        if "from" in change or "to" in change:
            lines.append(f"{name}: {change.get('from')} \u2192 {change.get('to')}")
            continue
        for key, points in (change.get("added") or {}).items():
            lines.append(f"{name} {key} added: {points}")
        for key, points in (change.get("removed") or {}).items():
            lines.append(f"{name} {key} removed (was {points})")
        for key, values in (change.get("changed") or {}).items():
            lines.append(f"{name} {key}: {values['from']} \u2192 {values['to']}")
    return lines


def replayed_stage(*, email: str, fills: Sequence[Fill], rules: ScoringRules) -> tuple[str, str] | None:
    """The stage `rules` give a lead from its fills, each decided as the classifier would have at the
    time (the score of the fills so far, decayed to that fill), forward only; and the reason of the last
    move. None for a lead without a counted fill."""
    history = counted(fills)
    stage: str | None = None
    reason = ""
    for i, fill in enumerate(history):
        card = score_lead(email=email, fills=history[: i + 1], now=fill.at, rules=rules)
        decision = decide_stage(current=stage, fill=fill, fit=card.fit, engagement=card.engagement, rules=rules)
        if decision.changed or stage is None:
            reason = decision.reason or reason
        stage = decision.stage
    return (stage, reason) if stage is not None else None


# What a re-score does to one lead's stage.
PROMOTE, SUGGEST, KEEP, PINNED = "promote", "suggest", "keep", "pinned"
# Stages a re-score leaves as they are: side states a person set, and what only sales' feedback reaches.
_PINNED_STAGES = frozenset({Stage.RECYCLED, Stage.DISQUALIFIED, Stage.SAL, Stage.OPPORTUNITY, Stage.CUSTOMER})


@dataclass(frozen=True)
class RescorePlan:
    """One lead under new rules: its scores now, and what happens to its stage (`action`) and why."""

    card: ScoreCard
    action: str
    current: str
    target: str
    reason: str

    @property
    def changes_stage(self) -> bool:
        """Only a promotion moves the stage."""
        return self.action == PROMOTE


def plan_rescore(
    *, email: str, current: str, set_by_person: bool, fills: Sequence[Fill], now: datetime, rules: ScoringRules
) -> RescorePlan:
    """Scores as of `now` and the stage decision for one existing lead under `rules`."""
    card = score_lead(email=email, fills=fills, now=now, rules=rules)
    if set_by_person or current in _PINNED_STAGES:
        return RescorePlan(card, PINNED, current, current, "")
    replayed = replayed_stage(email=email, fills=fills, rules=rules)
    if replayed is None:
        return RescorePlan(card, KEEP, current, current, "")
    target, reason = replayed
    if stage_rank(target) > stage_rank(current):
        return RescorePlan(card, PROMOTE, current, target, reason)
    if stage_rank(target) < stage_rank(current):
        return RescorePlan(card, SUGGEST, current, target, reason)
    return RescorePlan(card, KEEP, current, current, "")


__all__ = [
    "KEEP",
    "PINNED",
    "PROMOTE",
    "SUGGEST",
    "RescorePlan",
    "diff_lines",
    "plan_rescore",
    "replayed_stage",
    "rules_diff",
    "rules_from_stored",
]
