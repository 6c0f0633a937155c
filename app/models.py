"""The schema, in SQLAlchemy 2.x typed style. It changes only through Alembic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from app.statuses import DeliveryStatus, RescoreStatus, Stage, SubmissionStatus
from screening.ranking import NO_ENGAGEMENT, engagement_key
from screening.scoring import Score, engagement_at

# Named constraints keep migrations reproducible on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now; stored as naive UTC for portability."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Form(Base):
    """A form marketing embeds: its kind decides its fields and intent."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    # consent_text, thank_you, redirect_url, asset_url, webinar {title, starts_at, duration_minutes, join_url},
    # visitor_email {enabled, subject, body}, allowed_origins
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The form's own texts per language, {"de": {"title": …, "label.email": …}} (app/i18n/overrides.py).
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Lead(Base):
    """One person, keyed by normalised e-mail; stage only moves forward."""

    __tablename__ = "leads"
    __table_args__ = (
        # The SLA check's leads: a first touch due and nobody has touched them or been alerted yet.
        Index(
            "ix_leads_sla_open",
            "sla_due_at",
            postgresql_where=text("sla_due_at IS NOT NULL AND first_touch_at IS NULL AND sla_breached_at IS NULL"),
            sqlite_where=text("sla_due_at IS NOT NULL AND first_touch_at IS NULL AND sla_breached_at IS NULL"),
        ),
        # The sweeper's revisits (app/leads/revisit.py): only the few recycled leads given a date.
        Index(
            "ix_leads_revisit_on",
            "revisit_on",
            postgresql_where=text("revisit_on IS NOT NULL"),
            sqlite_where=text("revisit_on IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.PROSPECT)
    # Contact fields merged from accepted submissions: newest non-empty wins.
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    score: Mapped[int] = mapped_column(default=0)
    # The two dimensions of the score (screening/scoring.py), as of `scored_at`; `score` is their sum. The
    # breakdown keeps every line (rule, points, evidence, submission) so the score is explained, and the
    # engagement lines' base points and times so decay is applied again whenever it is read.
    fit: Mapped[int] = mapped_column(default=0)
    engagement: Mapped[int] = mapped_column(default=0)
    score_breakdown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scored_at: Mapped[datetime | None]
    # Orders the leads list by engagement as decayed now (screening/ranking.py); set with the breakdown.
    engagement_key: Mapped[float] = mapped_column(default=NO_ENGAGEMENT)
    # The person's latest fill or sales' latest feedback: the leads list's default order.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Why the lead is at its stage (the latest decision about it, e.g. "asked for sales, not qualified: ...").
    stage_reason: Mapped[str] = mapped_column(Text, default="")
    # Set when a person chose the stage (a reviewer at approval): automation leaves it until a later fill.
    stage_set_by: Mapped[str | None] = mapped_column(String(320))
    stage_set_at: Mapped[datetime | None]
    # Sales feedback: the latest outcome (app/statuses.py FeedbackOutcome); every one is in lead_feedback.
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None]
    # Speed to lead: when sales first reported contact ("contacted", or a later outcome that implies it).
    first_touch_at: Mapped[datetime | None]
    # A recycled lead's date to look at again (bad timing, no budget), if sales gave one.
    revisit_on: Mapped[date | None]
    # Set when the person's data was erased (app/privacy.py); stage and score stay for the funnel.
    erased_at: Mapped[datetime | None]
    # When the person withdrew marketing consent (the unsubscribe link, app/consent/unsubscribe.py).
    unsubscribed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Speed to lead (app/leads/owners.py, app/leads/sla.py): who owns the SQL since when, when first touch is
    # due, and when the SLA check found it overdue (set once, so one breach is alerted once).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"), index=True)
    assigned_at: Mapped[datetime | None]
    sla_due_at: Mapped[datetime | None]
    sla_breached_at: Mapped[datetime | None] = mapped_column(index=True)

    owner: Mapped[Owner | None] = relationship()
    stage_changes: Mapped[list[StageChange]] = relationship(order_by="StageChange.id")

    def engagement_score(self, now: datetime | None = None) -> Score:
        """Engagement decayed to `now` from the stored breakdown (a lead that stops filling forms cools
        down); a lead scored before breakdowns were kept gives its stored number without lines."""
        if not self.score_breakdown:
            return Score(self.engagement)
        return engagement_at(self.score_breakdown, now or utcnow())

    @validates("score_breakdown")
    def _keep_engagement_key(self, _name: str, breakdown: dict[str, Any]) -> dict[str, Any]:
        """A new breakdown sets the key the leads list sorts engagement by, whoever scored the lead."""
        self.engagement_key = engagement_key(
            breakdown, fallback_points=self.engagement or 0, fallback_at=self.scored_at
        )
        return breakdown


class Owner(Base):
    """A salesperson SQLs are assigned to: a user with a login (`user_id`) or just a name and an e-mail."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    # Round-robin takes the active owner in rotation assigned longest ago (never first).
    in_rotation: Mapped[bool] = mapped_column(default=True)
    last_assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentRule(Base):
    """Assign SQLs matching `field` = `value` (country, company_size, form slug) to one owner; the first
    rule by position wins, and a lead no rule matches goes round-robin."""

    __tablename__ = "assignment_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Owner] = relationship()


class FirstTouch(Base):
    """An assigned lead's first touch, kept once so the dashboard's speed-to-lead percentiles read only the
    touches in its period (by `touched_at`), never the leads table; no personal data, so erasure keeps it."""

    __tablename__ = "first_touches"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"))
    # utm source of the lead's first submission ('' when it had none).
    source: Mapped[str] = mapped_column(String(200), default="")
    assigned_at: Mapped[datetime]
    touched_at: Mapped[datetime] = mapped_column(index=True)
    seconds: Mapped[int]
    within_sla: Mapped[bool] = mapped_column(default=True)


class StageChange(Base):
    """A lead moved forward: from, to, why, and who or what moved it."""

    __tablename__ = "stage_changes"
    # The loop report's hand-offs to sales in a period (app/reporting/loop.py): the SQL changes only.
    __table_args__ = (Index("ix_stage_changes_to_stage_at", "to_stage", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(320))
    # Indexed: the rollups' sweep turn finds the leads whose stage changed since its last turn.
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LeadFeedback(Base):
    """What sales reported about a lead, through the signed link or the API."""

    __tablename__ = "lead_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    # The stage the outcome moved the lead to (None: no change), and a recycled lead's revisit date.
    stage: Mapped[str | None] = mapped_column(String(16))
    revisit_on: Mapped[date | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoringRuleSet(Base):
    """One saved version of the scoring and qualification rules (admin page); the newest is in force, and
    with none saved the settings are (app/leads/scoring_rules.py). Never updated: the table is the history."""

    __tablename__ = "scoring_rule_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every rule (ScoringRules.as_dict()), and what changed against the rules in force before (rules_diff).
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RescoreRun(Base):
    """Re-scoring the existing leads under one rule set (app/leads/rescore.py): progress for the page, and
    the last lead done, so a re-run of the job resumes instead of starting over."""

    __tablename__ = "rescore_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("scoring_rule_sets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=RescoreStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    promoted: Mapped[int] = mapped_column(default=0)
    suggested: Mapped[int] = mapped_column(default=0)
    last_lead_id: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ApiToken(Base):
    """A bearer token for an integration (a CRM posting feedback): only its SHA-256 is kept, shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # What the token may do: "feedback" (POST /api/leads/feedback).
    scope: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("destinations.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


# Contact fields the admin's search looks in (app/admin/listing.py).
SEARCHED_COLUMNS = ("email", "first_name", "last_name", "company")


class Submission(Base):
    """One form post, stored before the visitor is answered."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_status_received_at", "status", "received_at"),
        # The screening queue and the spam folder: one verdict, by age.
        Index("ix_submissions_verdict_received_at", "verdict", "received_at"),
        # Velocity: submissions from one IP, and (by time first, then e-mail) from one address, in a window.
        Index("ix_submissions_ip_received_at", "ip", "received_at"),
        Index("ix_submissions_received_at", "received_at"),
        # One per filter the admin lists offer, each ending in the list's order, so a page reads its 50 rows
        # from the index whatever the table's size: the spam folder by reason, forms, utm source and campaign.
        Index("ix_submissions_verdict_category_received_at", "verdict", "reason_category", "received_at"),
        Index("ix_submissions_form_received_at", "form_id", "received_at"),
        Index("ix_submissions_utm_source_received_at", "utm_source", "received_at"),
        Index("ix_submissions_utm_campaign_received_at", "utm_campaign", "received_at"),
        # Search: trigram indexes on PostgreSQL (ILIKE '%acme%', an e-mail exactly or by its start); SQLite has
        # no such index, so there they are empty partial indexes that only keep one schema for both.
        *(
            Index(
                f"ix_submissions_{name}_trgm",
                name,
                postgresql_using="gin",
                postgresql_ops={name: "gin_trgm_ops"},
                sqlite_where=text("0"),
            )
            for name in SEARCHED_COLUMNS
        ),
        # The sweeper's DNS retries: only the few submissions held because DNS did not answer.
        Index(
            "ix_submissions_dns_held_at",
            "dns_held_at",
            postgresql_where=text("dns_held_at IS NOT NULL"),
            sqlite_where=text("dns_held_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))  # indexed with received_at (above)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email: Mapped[str] = mapped_column(String(320), index=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    # Qualifying answers a form collects (BANT: budget, authority, need, timeline).
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    referrer: Mapped[str] = mapped_column(String(2048), default="")
    page_url: Mapped[str] = mapped_column(String(2048), default="")
    utm_source: Mapped[str] = mapped_column(String(200), default="")
    utm_medium: Mapped[str] = mapped_column(String(200), default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="")
    utm_term: Mapped[str] = mapped_column(String(200), default="")
    utm_content: Mapped[str] = mapped_column(String(200), default="")
    consent_given: Mapped[bool] = mapped_column(default=False)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_text_version: Mapped[str] = mapped_column(String(64), default="")
    # Each consent box shown, by kind (contact, marketing): given, exact text, version, time, language
    # (app/consent/records.py). The three columns above keep the contact consent for older readers.
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # honeypot, token status, fill time, origin — weighed by screening, never a reason to drop.
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    screened_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.RECEIVED)
    verdict: Mapped[str | None] = mapped_column(String(16))
    reason_category: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[int | None]
    stage: Mapped[str | None] = mapped_column(String(16))
    # The HTTP request that captured it (X-Request-ID); its jobs log the same id.
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The language the visitor's page was in (app/i18n): e-mails to the visitor are written in it.
    language: Mapped[str] = mapped_column(String(16), default="en")
    # Set when the person's data was erased (app/privacy.py); the row stays for anonymous counts.
    erased_at: Mapped[datetime | None]
    # The reviewer working it in the screening queue ("assign to me"), so two do not decide the same one.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The same person's same form posted again within minutes (double click, back button): stored, linked to
    # the first, and neither scored nor forwarded (app/leads/classification.py).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"), index=True)
    # When screening last held it because DNS did not answer (a `dns.unknown` finding); cleared by a decision
    # or a reopen. The sweeper's retries read this short, indexed list instead of every held submission.
    dns_held_at: Mapped[datetime | None]

    form: Mapped[Form] = relationship()
    lead: Mapped[Lead | None] = relationship()
    assigned_to: Mapped[User | None] = relationship()
    findings: Mapped[list[Finding]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="Finding.id"
    )


# An e-mail looked up whole or by its start, in any case: lower(email) with text_pattern_ops (= and LIKE
# 'start%') on PostgreSQL. On SQLite the migration builds it as `email COLLATE NOCASE`, which answers the same
# lookups there (= ... COLLATE NOCASE, LIKE 'start%') and which schema comparison reads as the same index.
Index(
    "ix_submissions_email_lower",
    func.lower(Submission.email).label("email_lower"),
    postgresql_ops={"email_lower": "text_pattern_ops"},
)

# The leads list (app/leads/directory.py): each order (last activity, engagement, fit) on its own and within
# a stage, an outcome and an owner, so a page reads its rows in order from an index. The id ends each one:
# it breaks ties in the keyset.
for _order, _column in (("last_activity", "last_activity_at"), ("engagement_key", "engagement_key"), ("fit", "fit")):
    Index(f"ix_leads_{_order}", getattr(Lead, _column), Lead.id)
    Index(f"ix_leads_stage_{_order}", Lead.stage, getattr(Lead, _column), Lead.id)
    for _filtered, _by in (("outcome", Lead.outcome), ("owner", Lead.owner_id)):
        Index(f"ix_leads_{_filtered}_{_order}", _by, getattr(Lead, _column), Lead.id)


class Finding(Base):
    """One screening observation with the evidence a reviewer reads."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    weight: Mapped[int]
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="findings")


class User(Base):
    """An admin or reviewer; passwords hashed with Werkzeug's scrypt."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="admin")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Wrong passwords (or codes) given for this account since its last sign-in: told to the user then.
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    # Two-factor sign-in (TOTP): the secret once set up, on from its first confirmed code; the time step of
    # the last code accepted (a code is good once); SHA-256 digests of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None]
    recovery_codes: Mapped[list[Any]] = mapped_column(default=list)


class UserSession(Base):
    """One signed-in browser: the cookie holds a random token, this row its SHA-256, so signing out,
    a new password, a new role or deactivation ends the session at once, on every web process."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class SignInFailures(Base):
    """Failed sign-ins from one client for one account, so waits grow for that pair only: a stranger
    guessing from elsewhere cannot lock the real user out. `account` is the SHA-256 of the e-mail given
    (known or not), `client` the IP address (an IPv6 client's /64)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (UniqueConstraint("account", "client", name="uq_sign_in_failures_account_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ListEntry(Base):
    """A competitor, blocked or allowed value managed by admins."""

    __tablename__ = "list_entries"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_list_entries_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Destination(Base):
    """Where accepted leads are forwarded (webhook, e-mail, Slack, CRM)."""

    __tablename__ = "destinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(256), default="")
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Routing: which stages and which form slugs this destination receives (empty = all forms).
    stages: Mapped[list[Any]] = mapped_column(default=list)
    forms: Mapped[list[Any]] = mapped_column(default=list)
    # Which events it receives (lead.created, lead.stage_changed, lead.updated, lead.feedback); empty: the
    # default for its kind (app/forwarding/routing.py DEFAULT_EVENTS).
    events: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # Alerts (app/alerts): sent here as they open and resolve, or once a day as a digest; whether or not it
    # is active for leads, so an inactive destination can be an alerts-only channel.
    alerts: Mapped[bool] = mapped_column(default=False)
    alert_digest: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One submission sent to one destination: at-least-once, keyed for idempotency."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # One per event about a submission: its routing (event_key "") and later events about the lead
        # (sales feedback 'feedback:<id>', a withdrawn consent 'consent:<id>').
        UniqueConstraint("submission_id", "destination_id", "event_key", name="uq_deliveries_submission_destination"),
        # The few not delivered (yet): the sweeper's due deliveries and /metrics read these, never the
        # delivered ones, however many there are.
        Index(
            "ix_deliveries_open",
            "status",
            postgresql_where=text("status <> 'delivered'"),
            sqlite_where=text("status <> 'delivered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_key: Mapped[str] = mapped_column(String(64), default="")
    # pending -> delivered | retrying -> ... | failed (4xx) | dead (out of attempts); replay resets to pending.
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    # What is sent, fixed when the lead was routed so retries and replays send the same thing.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # counted per day (rollups)

    destination: Mapped[Destination] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class VisitorEmail(Base):
    """The confirmation e-mail a form promised the visitor: one per accepted submission, sent once.

    Created when the submission is accepted (never for a rejected one, for a held one only on
    approval); the send job claims it with a lease like a delivery, so two workers never send it and
    a retry or a second run of the job sends nothing more once it is `delivered`."""

    __tablename__ = "visitor_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    # pending -> sending -> delivered | retrying -> ... | failed (permanent) | dead (out of attempts).
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # When a retry is due, or when a sending claim's lease runs out.
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    """One try at a delivery: when, outcome, latency, an excerpt of the answer."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # counted per day (rollups)
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    latency_ms: Mapped[int] = mapped_column(default=0)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")


class Alert(Base):
    """A condition that needs a person (app/alerts): open while it holds, resolved once it has cleared;
    its destinations are told once when it opens and once when it resolves."""

    __tablename__ = "alerts"
    # One open alert per condition key: a second runner opening the same one at once fails here.
    __table_args__ = (
        Index(
            "uq_alerts_open_key",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    # When its opening was handed to the alert destinations (None: no destination took alerts then).
    notified_at: Mapped[datetime | None]


class AlertNotice(Base):
    """One alert event (opened, resolved, or a day's digest) for one destination: sent and retried like a
    delivery; the unique idempotency key makes each event once per destination (and a digest once a day)."""

    __tablename__ = "alert_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    destination: Mapped[Destination] = relationship()


class AuditEvent(Base):
    """Who or what changed a verdict, stage, list or setting, and why."""

    __tablename__ = "audit_events"
    # A subject's history: a lead's or submission's timeline, a delivery's replays.
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LearnedExample(Base):
    """One human decision the learned spam model trains on (screening/learned.py): the latest about a
    submission wins. Only hashed token features are kept, never the text; without a foreign key, a purge
    of old rejected submissions keeps what the model learned from them."""

    __tablename__ = "learned_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(8))  # spam | ham
    # What taught it: submission.rejected, submission.approved, submission.released, lead.feedback.
    source: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    submission_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: purges keep the example
    features: Mapped[list[Any]] = mapped_column(default=list)
    features_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionRollup(Base):
    """Submissions received in one hour or day (UTC) through one form with one utm source, counted for the
    dashboard and /metrics (app/reporting/rollups.py): by verdict, by reason while not accepted, and the
    new leads among them (a lead counts once, on its first accepted submission) by how far they got."""

    __tablename__ = "submission_rollups"

    # The bucket: an hour (yesterday and today, where counts still change) or a whole day before that.
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    hours: Mapped[int] = mapped_column(default=24)
    form_id: Mapped[int] = mapped_column(primary_key=True)  # no foreign key: counts outlive nothing, block nothing
    utm_source: Mapped[str] = mapped_column(String(200), primary_key=True)
    submissions: Mapped[int] = mapped_column(default=0)
    received: Mapped[int] = mapped_column(default=0)  # not screened yet (status received)
    accepted: Mapped[int] = mapped_column(default=0)
    held: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    spam: Mapped[int] = mapped_column(default=0)
    competitor: Mapped[int] = mapped_column(default=0)
    student: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)
    leads: Mapped[int] = mapped_column(default=0)
    mql: Mapped[int] = mapped_column(default=0)  # of `leads`, those at MQL or a later stage now
    sql: Mapped[int] = mapped_column(default=0)  # at SQL or a later stage
    won: Mapped[int] = mapped_column(default=0)
    # The loop (app/reporting/loop.py): of `leads`, those that ever reached MQL, ever reached SQL (or a later
    # stage), that sales ever accepted, rejected (any reason, spam included) or won, and per rejection reason.
    reached_mql: Mapped[int] = mapped_column(default=0)
    reached_sql: Mapped[int] = mapped_column(default=0)
    sales_accepted: Mapped[int] = mapped_column(default=0)
    sales_rejected: Mapped[int] = mapped_column(default=0)
    sales_won: Mapped[int] = mapped_column(default=0)
    rejected_not_a_fit: Mapped[int] = mapped_column(default=0)
    rejected_bad_timing: Mapped[int] = mapped_column(default=0)
    rejected_no_budget: Mapped[int] = mapped_column(default=0)
    rejected_duplicate: Mapped[int] = mapped_column(default=0)
    rejected_already_customer: Mapped[int] = mapped_column(default=0)
    rejected_spam: Mapped[int] = mapped_column(default=0)


class DeliveryRollup(Base):
    """Deliveries created on one day (UTC): /metrics counts the delivered ones as all of them less the few
    still open, without reading every delivery (app/reporting/rollups.py)."""

    __tablename__ = "delivery_rollups"

    day: Mapped[date] = mapped_column(primary_key=True)
    deliveries: Mapped[int] = mapped_column(default=0)


class DeliveryAttemptRollup(Base):
    """Delivery attempts made on one day (UTC) by outcome, for /metrics (app/reporting/rollups.py)."""

    __tablename__ = "delivery_attempt_rollups"

    day: Mapped[date] = mapped_column(primary_key=True)
    ok: Mapped[bool] = mapped_column(primary_key=True)
    status_code: Mapped[int] = mapped_column(primary_key=True)  # 0: no answer (time-out, refused)
    attempts: Mapped[int] = mapped_column(default=0)


class RollupState(Base):
    """How far the rollups go: one row. They count the submissions received before `covered_until`;
    readers add the newer ones live."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    covered_until: Mapped[datetime]
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class OptIn(Base):
    """Double opt-in of one submission's marketing consent (app/consent/opt_in.py): pending until the visitor
    clicks the e-mailed link (confirmed) or the window closes (expired); marketing deliveries wait for it."""

    __tablename__ = "opt_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    confirmed_at: Mapped[datetime | None]
