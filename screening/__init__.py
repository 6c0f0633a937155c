"""Pure screening pipeline: checks -> findings -> verdict.

Imports neither Flask, SQLAlchemy nor Redis, so the worker, the admin re-screen
and the batch command all share one `screen()`.
"""

from screening.context import Context, Policy
from screening.model import ACCEPTED, HELD, REJECTED, Candidate, Finding, Screening
from screening.pipeline import screen

__all__ = ["ACCEPTED", "HELD", "REJECTED", "Candidate", "Context", "Finding", "Policy", "Screening", "screen"]
