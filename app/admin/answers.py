"""The form fields' answers on admin pages: `form_answers(submission)` and the `answer_text` filter."""

from __future__ import annotations

from typing import Any

from app.admin.blueprint import bp
from app.models import Submission
from forms import FORM_KINDS
from forms.answers import answer_rows
from forms.answers import answer_text as _answer_text


@bp.app_template_global("form_answers")
def form_answers(submission: Submission) -> list[tuple[str, str, str]]:
    """(key, label, text) of a submission's answers, labelled and ordered by its form's fields."""
    form = submission.form
    return answer_rows(FORM_KINDS.get(form.kind), form.settings or {}, submission.answers or {})


@bp.app_template_filter("answer_text")
def answer_text(value: Any) -> str:
    """An answer in words where its field is not at hand (a list joined, a ticked box "yes")."""
    return _answer_text(value)
