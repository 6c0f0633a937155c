"""The fields every public form shares.

Public forms are embedded cross-site, so they do not use Flask-WTF's session
CSRF: a signed form token (see app/capture/tokens.py) takes its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.fields import Country, Email, Phone, clean_line, clean_text
from screening.model import Stage

# Context the page (or embed script) fills in; never shown to the visitor.
CONTEXT_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "page_url", "referrer")
# Contact fields a form kind may show; `REQUIRED` on each kind says which are mandatory.
CONTACT_FIELDS = ("email", "first_name", "last_name", "company", "job_title", "phone", "country", "message")
# What a visitor reads when a required field is empty (a whole sentence per field: languages inflect the noun).
REQUIRED_MESSAGES: dict[str, Any] = {
    "first_name": _l("Enter your first name."),
    "last_name": _l("Enter your last name."),
    "company": _l("Enter your company."),
    "job_title": _l("Enter your job title."),
    "phone": _l("Enter your phone."),
    "country": _l("Enter your country."),
    "message": _l("Enter your message."),
}


def _line(label: Any, max_length: int) -> StringField:
    return StringField(label, filters=[clean_line], validators=[Optional(), Length(max=max_length)])


class LeadForm(FlaskForm):
    """Base of every public form kind."""

    class Meta:
        csrf = False

    KIND: ClassVar[str] = ""
    BANT: ClassVar[tuple[str, ...]] = ()
    INTENT: ClassVar[Stage] = Stage.PROSPECT
    LABEL: ClassVar[str] = ""
    SHOWN: ClassVar[tuple[str, ...]] = ("email", "first_name", "last_name")
    REQUIRED: ClassVar[tuple[str, ...]] = ("email",)
    SUBMIT_LABEL: ClassVar[Any] = _l("Submit")

    email = EmailField(
        _l("Work e-mail"),
        filters=[clean_line],
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254), Email()],
    )
    first_name = _line(_l("First name"), 100)
    last_name = _line(_l("Last name"), 100)
    company = _line(_l("Company"), 200)
    job_title = _line(_l("Job title"), 200)
    phone = StringField(_l("Phone"), filters=[clean_line], validators=[Optional(), Length(max=40), Phone()])
    country = StringField(_l("Country"), filters=[clean_line], validators=[Optional(), Length(max=80), Country()])
    message = TextAreaField(_l("Message"), filters=[clean_text], validators=[Optional(), Length(max=5000)])
    consent = BooleanField(_l("I agree to be contacted."))
    # Marketing consent: a box of its own, never pre-ticked, never required (app/consent/records.py).
    marketing_consent = BooleanField("Marketing")
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill it. A signal, not a reason to drop.
    website = StringField(_l("Leave this field empty"), filters=[clean_line], validators=[Optional()])
    token = HiddenField(filters=[clean_line])
    utm_source = HiddenField(filters=[clean_line], validators=[Length(max=200)])
    utm_medium = HiddenField(filters=[clean_line], validators=[Length(max=200)])
    utm_campaign = HiddenField(filters=[clean_line], validators=[Length(max=200)])
    utm_term = HiddenField(filters=[clean_line], validators=[Length(max=200)])
    utm_content = HiddenField(filters=[clean_line], validators=[Length(max=200)])
    page_url = HiddenField(filters=[clean_line], validators=[Length(max=2048)])
    referrer = HiddenField(filters=[clean_line], validators=[Length(max=2048)])

    def __init__(
        self,
        *args: Any,
        consent_text: str = "",
        marketing_consent_text: str = "",
        consent_required: bool = True,
        shown: Sequence[str] | None = None,
        required: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """`shown`/`required` override the kind's defaults (the admin's form editor sets them);
        e-mail is always shown and required, and a required field is always shown."""
        super().__init__(*args, **kwargs)
        self.consent_text = consent_text
        if consent_text:
            self.consent.label.text = consent_text
        self.consent_required = consent_required
        self.marketing_consent_text = marketing_consent_text
        if marketing_consent_text:
            self.marketing_consent.label.text = marketing_consent_text
        wanted_required = self.REQUIRED if required is None else required
        self.required_fields = tuple(n for n in CONTACT_FIELDS if n == "email" or n in wanted_required)
        wanted_shown = self.SHOWN if shown is None else shown
        self.shown_fields = tuple(n for n in CONTACT_FIELDS if n in wanted_shown or n in self.required_fields)
        for name in self.required_fields:
            if name != "email":
                self[name].flags.required = True

    def reprocess(self, formdata: Any) -> None:
        """Take another post into this form, as a new form of the same settings would (capture keeps one
        per thread instead of binding every field again for each post)."""
        self.email.normalized = None  # type: ignore[attr-defined]  # set by the Email validator
        self.process(formdata)

    def validate(self, extra_validators: Any = None) -> bool:
        """Field rules, then the kind's required fields and the consent box if the form asks for it."""
        ok = super().validate(extra_validators)
        for name in self.required_fields:
            field = self[name]
            if name != "email" and not field.data:
                field.errors = [*field.errors, str(REQUIRED_MESSAGES.get(name) or gettext("Fill in this field."))]
                ok = False
        if self.consent_text and self.consent_required and not self.consent.data:
            self.consent.errors = [*self.consent.errors, gettext("Please tick the box to agree before submitting.")]
            ok = False
        return ok

    def visible_fields(self) -> list[Any]:
        """The contact fields this kind shows, in display order."""
        return [self[name] for name in CONTACT_FIELDS if name in self.shown_fields]

    def contact_data(self) -> dict[str, str]:
        """Cleaned contact fields this kind shows; others are stored empty."""
        data = {name: (self[name].data or "") if name in self.shown_fields else "" for name in CONTACT_FIELDS}
        data["email"] = getattr(self.email, "normalized", None) or self.email.data or ""
        return data

    def answers_data(self) -> dict[str, str]:
        """The qualifying (BANT) answers this kind asks, only those given."""
        return {name: self[name].data for name in self.BANT if self[name].data}

    def context_data(self) -> dict[str, str]:
        """UTM parameters, page URL and referrer as the page reported them."""
        return {name: self[name].data or "" for name in CONTEXT_FIELDS}


# Re-exported so kinds can mark extra validators without importing wtforms.
__all__ = ["LeadForm", "InputRequired", "CONTEXT_FIELDS", "CONTACT_FIELDS"]
