"""Pure screening pipeline: checks -> findings -> verdict.

Imports neither Flask, SQLAlchemy nor Redis, so the worker, the admin re-screen
and the batch command all share one `screen()`.
"""

from screening.context import Context, Policy
from screening.model import Candidate, Finding, Screening, Stage, Verdict
from screening.pipeline import screen

__all__ = ["Candidate", "Context", "Finding", "Policy", "Screening", "Stage", "Verdict", "screen"]
