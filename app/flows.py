"""Orchestration across domains: what happens when a submission is accepted."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from app.capture import visitor_email
from app.forwarding.routing import feedback_token, route
from app.leads.classification import classify
from app.models import Submission
from screening.scoring import ScoringRules


def scoring_rules() -> ScoringRules:
    """Scoring rules from configuration."""
    config = current_app.config
    return ScoringRules.from_mapping({**config["SCORING_RULES"], "sql_threshold": config["SCORE_SQL_THRESHOLD"]})


def accept(session: Session, *, submission: Submission, actor: str) -> list[int]:
    """Classify an accepted submission and route it; returns new delivery ids (enqueue them after commit)."""
    lead = classify(session, submission=submission, rules=scoring_rules(), actor=actor)
    session.flush()
    config = current_app.config
    visitor_email.plan(session, submission=submission, smtp_url=config["SMTP_URL"])
    token = feedback_token(config["SECRET_KEY"], lead.id)
    deliveries = route(
        session, submission=submission, lead=lead, feedback_url=f"{config['PUBLIC_BASE_URL']}/feedback/{token}"
    )
    return [d.id for d in deliveries]
