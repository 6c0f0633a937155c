"""Every status word, defined once: models, services, templates and metrics use these.

Verdict and Stage belong to the pure `screening` package (it decides them); they are
imported here so that app code finds all its status words in one place.
"""

from __future__ import annotations

from screening.model import Stage, Verdict, Words


class SubmissionStatus(Words):
    """Where a submission is in processing (its verdict says what screening decided)."""

    RECEIVED = "received"
    SCREENED = "screened"


class DeliveryStatus(Words):
    """One delivery's state: pending -> sending -> delivered, or retrying until failed or dead."""

    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"
    # A delivery to a marketing destination waiting for the visitor to confirm marketing consent by e-mail
    # (app/consent/opt_in.py); never confirmed in time, it is withheld: never sent, never replayed.
    AWAITING_OPT_IN = "awaiting_opt_in"
    WITHHELD = "withheld"


class OptInStatus(Words):
    """The double opt-in of a marketing consent: pending until the e-mailed link is clicked or the window closes."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


class FeedbackOutcome(Words):
    """What sales reported about a lead from the signed feedback link or the API.

    The rejections (not a fit, bad timing, no budget, duplicate, already a customer) are outcomes of
    their own, so each is counted as a reason; `REJECTIONS` groups them. What each does to the stage:
    app/leads/feedback.py."""

    ACCEPTED = "accepted"
    CONTACTED = "contacted"
    MEETING_HELD = "meeting_held"
    WON = "won"
    LOST = "lost"
    NOT_A_FIT = "not_a_fit"
    BAD_TIMING = "bad_timing"
    NO_BUDGET = "no_budget"
    DUPLICATE = "duplicate"
    ALREADY_CUSTOMER = "already_customer"
    SPAM = "spam"


class RescoreStatus(Words):
    """A re-score of existing leads after the scoring rules were saved: queued -> running -> done, or
    superseded when newer rules were saved before it finished (their own run covers every lead)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    SUPERSEDED = "superseded"


# Outcomes that are sales rejecting the hand-off, each with its reason.
REJECTIONS = frozenset(
    {
        FeedbackOutcome.NOT_A_FIT,
        FeedbackOutcome.BAD_TIMING,
        FeedbackOutcome.NO_BUDGET,
        FeedbackOutcome.DUPLICATE,
        FeedbackOutcome.ALREADY_CUSTOMER,
    }
)


class EventType(Words):
    """What a delivery tells a destination about a lead (the payload's `type`)."""

    CREATED = "lead.created"
    STAGE_CHANGED = "lead.stage_changed"
    UPDATED = "lead.updated"
    FEEDBACK = "lead.feedback"


__all__ = [
    "REJECTIONS",
    "DeliveryStatus",
    "EventType",
    "FeedbackOutcome",
    "OptInStatus",
    "RescoreStatus",
    "Stage",
    "SubmissionStatus",
    "Verdict",
]
