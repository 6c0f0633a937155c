"""One form class per kind; each declares its intent for the classifier."""

from __future__ import annotations

from forms.base import MQL, PROSPECT, SQL, LeadForm


class DownloadForm(LeadForm):
    """Gated content (whitepaper, e-book): engaged, so MQL."""

    KIND = "download"
    INTENT = MQL
    LABEL = "Content download"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "country")
    REQUIRED = ("email", "first_name", "company")
    SUBMIT_LABEL = "Download"


class WebinarForm(LeadForm):
    """Webinar registration: engaged, so MQL."""

    KIND = "webinar"
    INTENT = MQL
    LABEL = "Webinar registration"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "country")
    REQUIRED = ("email", "first_name", "last_name")
    SUBMIT_LABEL = "Register"


class DemoRequestForm(LeadForm):
    """Asked for a demo: intent to buy, so SQL."""

    KIND = "demo"
    INTENT = SQL
    LABEL = "Demo request"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
    REQUIRED = ("email", "first_name", "last_name", "company")
    SUBMIT_LABEL = "Request a demo"


class ContactSalesForm(LeadForm):
    """Wants to talk to sales (pricing, quote): SQL."""

    KIND = "contact_sales"
    INTENT = SQL
    LABEL = "Contact sales"
    SHOWN = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
    REQUIRED = ("email", "first_name", "company", "message")
    SUBMIT_LABEL = "Contact sales"


class NewsletterForm(LeadForm):
    """Newsletter sign-up: fits the market, has not asked for anything: prospect."""

    KIND = "newsletter"
    INTENT = PROSPECT
    LABEL = "Newsletter sign-up"
    SHOWN = ("email", "first_name")
    REQUIRED = ("email",)
    SUBMIT_LABEL = "Subscribe"


FORM_KINDS: dict[str, type[LeadForm]] = {
    cls.KIND: cls for cls in (DownloadForm, WebinarForm, DemoRequestForm, ContactSalesForm, NewsletterForm)
}


def form_class(kind: str) -> type[LeadForm]:
    """The form class for a kind; KeyError names the unknown kind."""
    return FORM_KINDS[kind]
