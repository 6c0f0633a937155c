"""One form class per kind; each declares its intent for the classifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from forms.base import LeadForm
from forms.dynamic import FieldListForm, with_fields
from screening.model import Stage

# BANT questions the sales-intent forms ask; the answers feed lead scoring (screening/scoring.py).
BUDGET = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("under_10k", _l("Under $10k a year")),
    SelectChoice("10k_50k", _l("$10k–50k a year")),
    SelectChoice("over_50k", _l("Over $50k a year")),
    SelectChoice("none", _l("No budget yet")),
]
AUTHORITY = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("decision_maker", _l("I make the decision")),
    SelectChoice("influencer", _l("I recommend")),
    SelectChoice("researcher", _l("I am researching")),
]
NEED = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("urgent", _l("We need a solution now")),
    SelectChoice("exploring", _l("We are exploring options")),
]
TIMELINE = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("now", _l("Within a month")),
    SelectChoice("quarter", _l("This quarter")),
    SelectChoice("year", _l("This year")),
    SelectChoice("none", _l("No timeline")),
]
# Company size, a fit attribute scored beside the BANT answers (screening/scoring.py `company_size`).
COMPANY_SIZE = [
    SelectChoice("", _l("Choose…")),
    SelectChoice("1_10", _l("1–10 employees")),
    SelectChoice("11_50", _l("11–50 employees")),
    SelectChoice("51_200", _l("51–200 employees")),
    SelectChoice("201_1000", _l("201–1,000 employees")),
    SelectChoice("1001_5000", _l("1,001–5,000 employees")),
    SelectChoice("over_5000", _l("Over 5,000 employees")),
]


class QualifyingQuestions(LeadForm):
    """Budget, authority, need, timeline and company size, all optional.

    `BANT` names every qualifying question: the templates render them in this order and
    `answers_data()` stores them in the submission's answers."""

    BANT = ("budget", "authority", "need", "timeline", "company_size")

    budget = SelectField(_l("Budget"), choices=BUDGET, validators=[Optional()], validate_choice=True)
    authority = SelectField(_l("Your role in the decision"), choices=AUTHORITY, validators=[Optional()])
    need = SelectField(_l("Need"), choices=NEED, validators=[Optional()])
    timeline = SelectField(_l("Timeline"), choices=TIMELINE, validators=[Optional()])
    company_size = SelectField(_l("Company size"), choices=COMPANY_SIZE, validators=[Optional()])


class DownloadForm(LeadForm):
    """Gated content (whitepaper, e-book): engaged, so MQL."""

    KIND = "download"
    INTENT = Stage.MQL
    LABEL = "Content download"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "country")
    REQUIRED = ("email", "first_name", "company")
    SUBMIT_LABEL = _l("Download")


class WebinarForm(LeadForm):
    """Webinar registration: engaged, so MQL."""

    KIND = "webinar"
    INTENT = Stage.MQL
    LABEL = "Webinar registration"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "country")
    REQUIRED = ("email", "first_name", "last_name")
    SUBMIT_LABEL = _l("Register")


class DemoRequestForm(QualifyingQuestions):
    """Asked for a demo: intent to buy, so SQL."""

    KIND = "demo"
    INTENT = Stage.SQL
    LABEL = "Demo request"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
    REQUIRED = ("email", "first_name", "last_name", "company")
    SUBMIT_LABEL = _l("Request a demo")


class ContactSalesForm(QualifyingQuestions):
    """Wants to talk to sales (pricing, quote): SQL."""

    KIND = "contact_sales"
    INTENT = Stage.SQL
    LABEL = "Contact sales"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
    REQUIRED = ("email", "first_name", "company", "message")
    SUBMIT_LABEL = _l("Contact sales")


class NewsletterForm(LeadForm):
    """Newsletter sign-up: fits the market, has not asked for anything: prospect."""

    KIND = "newsletter"
    INTENT = Stage.PROSPECT
    LABEL = "Newsletter sign-up"
    SHOWN = ("email", "first_name")
    REQUIRED = ("email",)
    SUBMIT_LABEL = _l("Subscribe")


FORM_KINDS: dict[str, type[LeadForm]] = {
    cls.KIND: cls for cls in (DownloadForm, WebinarForm, DemoRequestForm, ContactSalesForm, NewsletterForm)
}


def form_class(kind: str) -> type[LeadForm]:
    """The form class for a kind; KeyError names the unknown kind."""
    return FORM_KINDS[kind]


def build_form(kind: str, settings: Mapping[str, Any], formdata: Any = None) -> FieldListForm:
    """The public form for a stored form row's kind and settings (consent text, shown/required fields)."""
    return with_fields(FORM_KINDS[kind], settings)(
        formdata=formdata,
        consent_text=settings.get("consent_text", ""),
        marketing_consent_text=settings.get("marketing_consent_text", ""),
        consent_required=settings.get("consent_required", True) is not False,
        shown=settings.get("shown"),
        required=settings.get("required"),
    )
