"""Orchestration across domains: what happens when a submission is accepted."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from app.capture import visitor_email
from app.consent import opt_in
from app.forwarding.routing import feedback_token, route
from app.leads.classification import classify
from app.leads.owners import ServiceLevel, assign_new_sql
from app.leads.scoring_rules import rules_cache
from app.models import Submission, utcnow
from screening.scoring import ScoringRules


def scoring_rules(session: Session) -> ScoringRules:
    """The rules in force: saved in the admin, else the settings; this process's copy while current."""
    return rules_cache(current_app).get(session)


def accept(
    session: Session, *, submission: Submission, actor: str, stage: str | None = None, note: str = ""
) -> list[int]:
    """Classify an accepted submission and route it; returns new delivery ids (enqueue them after commit).

    A duplicate (the same form again within minutes) is attached to its lead but not routed. `stage` is a
    reviewer's explicit choice, honoured before routing so destinations get the stage the person chose."""
    lead = classify(session, submission=submission, rules=scoring_rules(session), actor=actor, stage=stage, note=note)
    session.flush()
    if submission.duplicate_of_id is not None:
        return []
    config = current_app.config
    sla = ServiceLevel.from_config(config)
    assign_new_sql(session, lead=lead, submission=submission, service_level=sla, now=utcnow())
    visitor_email.plan(session, submission=submission, smtp_url=config["SMTP_URL"])
    token = feedback_token(config["SECRET_KEY"], lead.id)
    deliveries = route(
        session, submission=submission, lead=lead, feedback_url=f"{config['PUBLIC_BASE_URL']}/feedback/{token}"
    )
    # Marketing destinations wait for the visitor to confirm marketing consent (double opt-in).
    deliveries = opt_in.hold(
        session,
        submission=submission,
        lead=lead,
        deliveries=deliveries,
        hours=config["OPT_IN_CONFIRM_HOURS"],
        email=bool(config["SMTP_URL"]),
    )
    return [d.id for d in deliveries]
