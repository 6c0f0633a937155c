"""The learned spam model's side in the app: examples from human decisions, the worker's copy, reset and stats.

Reviewers and sales teach it in the same transaction as their decision (`learn`, called by the services
in app/leads): a reviewer's spam rejection or sales' spam outcome is a spam example; an approval, a
release from the spam folder or any other sales outcome (won, lost, not a fit: a real person) a ham
example. One example per submission: the latest decision replaces an earlier one. Examples only ever
hold hashed features (screening/learned.py), never text.

Each process keeps a copy of the model built from the bundled seed plus the examples, and checks the
table at most every SCREENING_LISTS_TTL_SECONDS: new rows are added to the copy incrementally; a
reset or a changed decision (rows gone) rebuilds it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Lead, LearnedExample, Submission
from app.statuses import FeedbackOutcome
from screening import learned
from screening.learned import HAM, SPAM, ModelState, Trainer

_MODEL = "leadsieve.learned_model"
_lock = threading.Lock()
# Sales feedback teaches the lead's most recent submissions, no more.
FEEDBACK_SUBMISSIONS = 10


def learn(session: Session, *, submission_id: int, label: str, source: str, actor: str) -> bool:
    """Record a person's decision about a submission as an example; False when there is no text to learn
    from (nothing is stored, so the minimum of decisions counts only examples with words). No commit."""
    submission = session.get(Submission, submission_id)
    return submission is not None and _learn(session, submission=submission, label=label, source=source, actor=actor)


def _learn(session: Session, *, submission: Submission, label: str, source: str, actor: str) -> bool:
    from app.jobs import candidate_for  # app.jobs imports the services that call this module

    features = learned.features(candidate_for(submission))
    current = session.scalars(select(LearnedExample).where(LearnedExample.submission_id == submission.id)).all()
    if not features or [(e.label, e.features_version) for e in current] == [(label, learned.FEATURES_VERSION)]:
        return bool(features)  # the same decision again changes nothing (and rebuilds no worker's copy)
    session.execute(delete(LearnedExample).where(LearnedExample.submission_id == submission.id))
    session.add(
        LearnedExample(
            label=label,
            source=source,
            actor=actor,
            submission_id=submission.id,
            features=features,
            features_version=learned.FEATURES_VERSION,
        )
    )
    return True


def learn_from_feedback(session: Session, *, lead: Lead, outcome: str, actor: str) -> int:
    """Sales' outcome teaches the lead's recent submissions: spam as spam, any other outcome as ham."""
    label = SPAM if outcome == FeedbackOutcome.SPAM else HAM
    submissions = session.scalars(
        select(Submission)
        .where(Submission.lead_id == lead.id, Submission.erased_at.is_(None))
        .order_by(Submission.id.desc())
        .limit(FEEDBACK_SUBMISSIONS)
    ).all()
    return sum(_learn(session, submission=s, label=label, source="lead.feedback", actor=actor) for s in submissions)


@dataclass(frozen=True)
class ModelStats:
    """What `leadsieve model stats` and the Lists page show."""

    spam: int
    ham: int
    seed_spam: int
    seed_ham: int
    min_examples: int
    threshold: float
    by_source: dict[str, int]
    last_at: datetime | None

    @property
    def ready(self) -> bool:
        return min(self.spam, self.ham) >= self.min_examples

    def line(self) -> str:
        """One line, e.g. 'learned from 12 spam and 40 ham decisions here (needs 30 of each: 18 more spam)'."""
        text = f"learned from {self.spam} spam and {self.ham} ham decisions here"
        if self.ready:
            return text + f" (flags spam at p ≥ {self.threshold:g})"
        missing = [
            f"{self.min_examples - n} more {k}"
            for k, n in ((SPAM, self.spam), (HAM, self.ham))
            if n < self.min_examples
        ]
        return text + f" (silent until {self.min_examples} of each: {' and '.join(missing)})"


def stats(session: Session, config: dict[str, Any]) -> ModelStats:
    """Counts of this installation's examples by label and source, the seed's, and the gate."""
    rows = session.execute(
        select(LearnedExample.label, LearnedExample.source, func.count(), func.max(LearnedExample.created_at))
        .where(LearnedExample.features_version == learned.FEATURES_VERSION)
        .group_by(LearnedExample.label, LearnedExample.source)
    ).all()
    seed = learned.seed_trainer().totals
    return ModelStats(
        spam=sum(n for label, _, n, _ in rows if label == SPAM),
        ham=sum(n for label, _, n, _ in rows if label == HAM),
        seed_spam=seed[SPAM],
        seed_ham=seed[HAM],
        min_examples=config["LEARNED_MODEL_MIN_EXAMPLES"],
        threshold=config["LEARNED_MODEL_THRESHOLD"],
        by_source={f"{label} from {source}": n for label, source, n, _ in rows},
        last_at=max((at for *_, at in rows if at is not None), default=None),
    )


def reset(session: Session, *, actor: str, note: str = "") -> int:
    """Forget every decision learned here (the seed stays); audited. Returns how many examples went. No commit."""
    count = session.scalar(select(func.count()).select_from(LearnedExample)) or 0
    session.execute(delete(LearnedExample))
    session.add(
        AuditEvent(
            actor=actor,
            action="learned_model.reset",
            subject_type="learned_model",
            subject_id=None,
            details={"examples": count, "note": note},
        )
    )
    session.flush()
    return count


@dataclass
class _Copy:
    """A process's model: the trainer it adds to, what it has read (row count, highest id), when it checked."""

    trainer: Trainer
    count: int
    max_id: int
    checked_at: float
    state: ModelState


def _add_rows(trainer: Trainer, session: Session, after_id: int) -> list[int]:
    rows = session.execute(
        select(LearnedExample.id, LearnedExample.label, LearnedExample.features)
        .where(LearnedExample.id > after_id, LearnedExample.features_version == learned.FEATURES_VERSION)
        .order_by(LearnedExample.id)
    ).all()
    for row in rows:
        trainer.add(row.features, row.label)
    return [row.id for row in rows]


def model_for(app: Flask, session: Session, *, fresh: bool = False) -> ModelState | None:
    """The model for screening, re-checked when `fresh` or the copy is older than
    SCREENING_LISTS_TTL_SECONDS; None when LEARNED_MODEL_ENABLED is off."""
    config = app.config
    if not config["LEARNED_MODEL_ENABLED"]:
        return None
    ttl = config["SCREENING_LISTS_TTL_SECONDS"]
    copy: _Copy | None = app.extensions.get(_MODEL)
    if not fresh and copy is not None and ttl > 0 and time.monotonic() - copy.checked_at < ttl:
        return copy.state
    return refresh_model(app, session)


def refresh_model(app: Flask, session: Session) -> ModelState:
    """Bring this process's copy up to date: unchanged, new rows added, or rebuilt when rows went away."""
    config = app.config
    settings = {"min_examples": config["LEARNED_MODEL_MIN_EXAMPLES"], "threshold": config["LEARNED_MODEL_THRESHOLD"]}
    count, max_id = session.execute(
        select(func.count(), func.coalesce(func.max(LearnedExample.id), 0)).where(
            LearnedExample.features_version == learned.FEATURES_VERSION
        )
    ).one()
    with _lock:
        copy: _Copy | None = app.extensions.get(_MODEL)
        now = time.monotonic()
        if copy is not None and (copy.count, copy.max_id) == (count, max_id):
            copy.checked_at = now
            if (copy.state.min_examples, copy.state.threshold) != tuple(settings.values()):
                copy.state = copy.trainer.state(**settings)
            return copy.state
        if copy is not None and count > copy.count:
            trainer = copy.trainer.copy()  # a horse forked mid-update must never see half an example
            added = _add_rows(trainer, session, copy.max_id)
            if copy.count + len(added) == count:  # only appended: nothing before copy.max_id went away
                app.extensions[_MODEL] = _Copy(
                    trainer, count, max(added, default=copy.max_id), now, trainer.state(**settings)
                )
                return app.extensions[_MODEL].state  # type: ignore[no-any-return]
        trainer = learned.seed_trainer().copy()
        added = _add_rows(trainer, session, 0)
        app.extensions[_MODEL] = _Copy(trainer, len(added), max(added, default=0), now, trainer.state(**settings))
        return app.extensions[_MODEL].state  # type: ignore[no-any-return]
