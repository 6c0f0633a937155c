"""Owners of SQLs: who they are, the assignment rules, and assigning each new SQL with its first-touch clock.

A new SQL (or a lead promoted to SQL) gets an owner at once, before it is forwarded, so every destination
is told who owns it: the first assignment rule (by position) whose country, company size or form matches,
else round-robin among the active owners in rotation (the one assigned longest ago, never-assigned first).
The clock starts then: first touch is due SLA_FIRST_TOUCH_HOURS working hours later (app/leads/sla.py).
Every change to owners and rules, and every assignment, is audited. Services flush; the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.leads.sla import WorkingHours, add_working_time
from app.models import AssignmentRule, AuditEvent, Lead, Owner, Submission, User
from app.statuses import Stage
from screening.model import Words


class RuleField(Words):
    """What an assignment rule compares: the lead's country, the `company_size` answer, or the form's slug."""

    COUNTRY = "country"
    COMPANY_SIZE = "company_size"
    FORM = "form"


EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}")


class OwnerError(ValueError):
    """An owner or rule change that cannot be made; the message says why, for the admin."""


@dataclass(frozen=True)
class ServiceLevel:
    """First touch within `first_touch` of working time (None: no clock) in `hours`."""

    first_touch: timedelta | None
    hours: WorkingHours

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ServiceLevel:
        """SLA_FIRST_TOUCH_HOURS, SLA_WORKING_DAYS, SLA_WORKING_HOURS, SLA_TIME_ZONE."""
        hours = WorkingHours.parse(
            days=config["SLA_WORKING_DAYS"], hours=config["SLA_WORKING_HOURS"], zone=config["SLA_TIME_ZONE"]
        )
        limit = config["SLA_FIRST_TOUCH_HOURS"]
        return cls(first_touch=timedelta(hours=limit) if limit > 0 else None, hours=hours)

    def due(self, start: datetime) -> datetime | None:
        """When first touch is due for a lead assigned at `start` (naive UTC)."""
        return None if self.first_touch is None else add_working_time(start, self.first_touch, self.hours)


SUBJECTS = {"owners": "owner", "assignment_rules": "assignment_rule", "leads": "lead"}


def _audit(session: Session, actor: str, action: str, subject: Owner | AssignmentRule | Lead, **details: Any) -> None:
    kind = SUBJECTS[subject.__tablename__]
    session.add(AuditEvent(actor=actor, action=action, subject_type=kind, subject_id=subject.id, details=details))


def list_owners(session: Session) -> list[Owner]:
    """Every owner, active ones first, by name."""
    return list(session.scalars(select(Owner).order_by(Owner.active.desc(), Owner.name, Owner.id)))


def list_rules(session: Session) -> list[AssignmentRule]:
    """The assignment rules in the order they are tried."""
    return list(session.scalars(select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.id)))


def create_owner(session: Session, *, name: str, email: str, actor: str, user_id: int | None = None) -> Owner:
    """A new owner in rotation; `user_id` links a sales user who signs in (optional)."""
    name, email = name.strip(), email.strip().lower()
    if not name or len(name) > 200:
        raise OwnerError("give the owner a name (at most 200 characters)")
    if not EMAIL.fullmatch(email):
        raise OwnerError("give the owner a valid e-mail address")
    if session.scalars(select(Owner.id).where(Owner.email == email)).first() is not None:
        raise OwnerError(f"an owner with the e-mail {email} already exists")
    if user_id is not None and session.get(User, user_id) is None:
        raise OwnerError("no such user")
    owner = Owner(name=name, email=email, user_id=user_id, active=True, in_rotation=True)
    session.add(owner)
    session.flush()
    _audit(session, actor, "owner.created", owner, name=name)
    return owner


def update_owner(session: Session, *, owner_id: int, actor: str, active: bool, in_rotation: bool) -> Owner:
    """Take an owner out of (or back into) assignment altogether (`active`) or just round-robin."""
    owner = session.get(Owner, owner_id)
    if owner is None:
        raise OwnerError("no such owner")
    before = {"active": owner.active, "in_rotation": owner.in_rotation}
    owner.active, owner.in_rotation = active, in_rotation
    after = {"active": active, "in_rotation": in_rotation}
    if before != after:
        _audit(
            session,
            actor,
            "owner.updated",
            owner,
            before=before,
            after=after,
        )
    session.flush()
    return owner


def add_rule(session: Session, *, field: str, value: str, owner_id: int, actor: str) -> AssignmentRule:
    """A rule tried after the existing ones: leads whose `field` equals `value` (any case) go to the owner."""
    if not RuleField.has(field):
        raise OwnerError(f"a rule compares one of: {', '.join(RuleField)}")
    value = value.strip()
    if not value or len(value) > 200:
        raise OwnerError("give the value the rule compares (at most 200 characters)")
    if session.get(Owner, owner_id) is None:
        raise OwnerError("no such owner")
    last = session.scalars(select(AssignmentRule.position).order_by(AssignmentRule.position.desc())).first()
    rule = AssignmentRule(position=(last or 0) + 1, field=field, value=value, owner_id=owner_id, created_by=actor)
    session.add(rule)
    session.flush()
    _audit(
        session,
        actor,
        "assignment_rule.created",
        rule,
        field=field,
        value=value,
        owner_id=owner_id,
    )
    return rule


def remove_rule(session: Session, *, rule_id: int, actor: str) -> None:
    """Delete a rule (audited with what it said)."""
    rule = session.get(AssignmentRule, rule_id)
    if rule is None:
        raise OwnerError("no such rule")
    _audit(
        session,
        actor,
        "assignment_rule.deleted",
        rule,
        field=rule.field,
        value=rule.value,
        owner_id=rule.owner_id,
    )
    session.delete(rule)
    session.flush()


def _value_of(field: str, lead: Lead, submission: Submission) -> str:
    if field == RuleField.COUNTRY:
        return lead.country
    if field == RuleField.COMPANY_SIZE:
        return str((submission.answers or {}).get("company_size") or "")
    return submission.form.slug


def choose_owner(session: Session, *, lead: Lead, submission: Submission) -> tuple[Owner | None, str]:
    """The owner for this SQL and why: the first matching rule whose owner is active, else round-robin.
    Rotation owners are locked until commit (PostgreSQL), so two workers never both pick the same "next"."""
    for rule in list_rules(session):
        if rule.owner.active and _value_of(rule.field, lead, submission).strip().lower() == rule.value.lower():
            return rule.owner, f"rule {rule.id}: {rule.field} is {rule.value}"
    rotation = session.scalars(
        select(Owner)
        .where(Owner.active.is_(True), Owner.in_rotation.is_(True))
        .order_by(Owner.last_assigned_at.is_not(None), Owner.last_assigned_at, Owner.id)
        .with_for_update()
    ).all()
    return (rotation[0], "round-robin") if rotation else (None, "no active owner in rotation")


def assign_new_sql(
    session: Session, *, lead: Lead, submission: Submission, service_level: ServiceLevel, now: datetime
) -> Owner | None:
    """Give a lead that is an SQL for the first time its owner and start its first-touch clock; a lead
    already assigned (or not an SQL) is left as it is, so classifying again changes nothing."""
    if lead.stage != Stage.SQL or lead.assigned_at is not None:
        return None
    owner, why = choose_owner(session, lead=lead, submission=submission)
    lead.owner_id, lead.assigned_at = (owner.id if owner else None), now
    lead.sla_due_at = service_level.due(now) if lead.first_touch_at is None else None
    if owner is not None:
        owner.last_assigned_at = now
    _audit(
        session,
        "assignment",
        "lead.assigned",
        lead,
        owner_id=lead.owner_id,
        why=why,
        sla_due_at=lead.sla_due_at.isoformat() + "Z" if lead.sla_due_at else None,
    )
    session.flush()
    session.refresh(lead, ["owner"])
    return owner


def reassign_owner(session: Session, *, lead_id: int, owner_id: int | None, actor: str) -> Lead:
    """A person gives the lead another owner (None: nobody). The clock keeps running from the first
    assignment: handing a lead on does not buy time. Audited with both owners."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise OwnerError("no such lead")
    owner = session.get(Owner, owner_id) if owner_id is not None else None
    if owner_id is not None and (owner is None or not owner.active):
        raise OwnerError("no such active owner")
    if lead.owner_id != owner_id:
        _audit(session, actor, "lead.owner_changed", lead, before=lead.owner_id, after=owner_id)
        lead.owner_id = owner_id
        session.flush()
        session.refresh(lead, ["owner"])
    return lead


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def owner_payload(lead: Lead) -> dict[str, Any]:
    """The owner (name and e-mail, or None) and the first-touch deadline, as every destination gets them."""
    owner = lead.owner
    return {
        "owner": {"name": owner.name, "email": owner.email} if owner is not None else None,
        "assigned_at": _iso(lead.assigned_at),
        "sla_due_at": _iso(lead.sla_due_at),
    }


__all__ = [
    "OwnerError",
    "RuleField",
    "ServiceLevel",
    "add_rule",
    "assign_new_sql",
    "choose_owner",
    "create_owner",
    "list_owners",
    "list_rules",
    "owner_payload",
    "reassign_owner",
    "remove_rule",
    "update_owner",
]
