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


class FeedbackOutcome(Words):
    """What sales reported about a lead from the signed feedback link or its API."""

    WON = "won"
    LOST = "lost"
    NOT_A_FIT = "not_a_fit"
    SPAM = "spam"


__all__ = ["DeliveryStatus", "FeedbackOutcome", "Stage", "SubmissionStatus", "Verdict"]
