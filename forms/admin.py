"""Admin forms; unlike public forms they keep Flask-WTF's session CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from forms.base import CONTACT_FIELDS
from forms.field_editor import FieldRowForm
from forms.kinds import FORM_KINDS
from screening.model import Stage


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=512)])


class LogoutForm(FlaskForm):
    """Only a CSRF token: logging out is a POST."""


class SignInCodeForm(FlaskForm):
    """The second step of a two-factor sign-in: a 6-digit code, or one of the recovery codes."""

    code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[DataRequired(), Length(max=32)]
    )


class ForgotPasswordForm(FlaskForm):
    """Where to send a password-reset link."""

    email = EmailField("E-mail", validators=[DataRequired(), Length(max=320)])


class NewPasswordForm(FlaskForm):
    """A new password, twice (the length rule is checked by app/accounts/users.py)."""

    password = PasswordField("New password (at least 12 characters)", validators=[DataRequired(), Length(max=512)])
    confirm = PasswordField(
        "The same again", validators=[DataRequired(), EqualTo("password", "The two passwords differ.")]
    )


class NewUserForm(FlaskForm):
    """Create a user: they set their own password from the link they are sent."""

    email = EmailField("E-mail", validators=[DataRequired("Enter their e-mail address."), Length(max=320)])
    role = SelectField("Role", choices=[SelectChoice("reviewer", "reviewer"), SelectChoice("admin", "admin")])


class UserRoleForm(FlaskForm):
    """Change one user's role."""

    role = SelectField("Role", choices=[SelectChoice("reviewer", "reviewer"), SelectChoice("admin", "admin")])


class UserActiveForm(FlaskForm):
    """Deactivate (active=0) or reactivate (active=1) a user."""

    active = HiddenField(validators=[DataRequired(), AnyOf(["0", "1"])])


class ConfirmForm(FlaskForm):
    """Only a CSRF token: a POST that needs no values (sign out everywhere, start two-factor set-up)."""


class TotpCodeForm(FlaskForm):
    """A code from the authenticator app: confirms two-factor set-up, or allows turning it off."""

    code = StringField("Code", validators=[DataRequired(), Length(max=32)])


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (accessible: each has its own label)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FormEditor(FlaskForm):
    """Create or edit a public form; app/form_settings.py validates the values."""

    name = StringField("Name", validators=[DataRequired("Give the form a name."), Length(max=200)])
    slug = StringField(
        "Slug (the form's address: /f/<slug>)",
        validators=[
            DataRequired("Choose a slug."),
            Length(max=80),
            Regexp(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", message="Use lower-case letters, digits and hyphens."),
        ],
    )
    kind = SelectField("Kind", choices=[SelectChoice(k, cls.LABEL) for k, cls in FORM_KINDS.items()])
    active = BooleanField("Active (accepting submissions)", default=True)
    intro = TextAreaField("Introduction", validators=[Optional(), Length(max=2000)])
    shown = MultiCheckboxField("Fields shown", choices=[SelectChoice(n, n.replace("_", " ")) for n in CONTACT_FIELDS])
    required = MultiCheckboxField(
        "Fields required", choices=[SelectChoice(n, n.replace("_", " ")) for n in CONTACT_FIELDS]
    )
    # The field list, one row per field (app/admin/form_fields.py); without rows shown/required above apply.
    fields = FieldList(FormField(FieldRowForm), label="Fields")
    consent_text = TextAreaField(
        "Consent text (leave empty for no consent box)", validators=[Optional(), Length(max=2000)]
    )
    consent_required = BooleanField("The visitor must tick the consent box to submit", default=True)
    marketing_consent_text = TextAreaField(
        "Marketing consent text (a separate box, never pre-ticked or required; confirmed by e-mail)",
        validators=[Optional(), Length(max=2000)],
    )
    thank_you = TextAreaField("Thank-you message", validators=[Optional(), Length(max=2000)])
    # Choices (the languages with a catalogue) are set by the view: forms/ does not import app.
    language = SelectField("Language of the form's pages, e-mails and messages", choices=[], validate_choice=False)
    translations = TextAreaField(
        "Your own texts per language, one per line: de.title = …, de.intro = …, de.button = …, "
        "de.thank_you = …, de.email_subject = …, de.email_body = … (\\n for a new line), "
        "de.label.<field key> = … (other texts follow the language's catalogue)",
        validators=[Optional(), Length(max=20000)],
    )
    redirect_url = StringField("…or redirect to (https://…)", validators=[Optional(), Length(max=2048)])
    asset_url = StringField("Asset URL (downloads)", validators=[Optional(), Length(max=2048)])
    asset_name = StringField("Asset name", validators=[Optional(), Length(max=200)])
    webinar_title = StringField("Webinar title", validators=[Optional(), Length(max=200)])
    webinar_starts_at = StringField(
        "Webinar date and time (2026-12-10 16:00 in your time zone, or with a zone: … Europe/Berlin, … +01:00)",
        validators=[Optional(), Length(max=100)],
    )
    webinar_duration_minutes = StringField("Webinar length in minutes", validators=[Optional(), Length(max=5)])
    webinar_join_url = StringField("Webinar join link", validators=[Optional(), Length(max=2048)])
    visitor_email = BooleanField("Send the visitor a confirmation e-mail (with the download or join link)")
    visitor_email_subject = StringField(
        "E-mail subject (empty: a default for the kind)", validators=[Optional(), Length(max=200)]
    )
    visitor_email_body = TextAreaField(
        "E-mail text (empty: a default for the kind; links and the calendar invitation are added)",
        validators=[Optional(), Length(max=5000)],
    )
    allowed_origins = TextAreaField(
        "Allowed embed origins (one per line, e.g. https://www.example.com)", validators=[Optional(), Length(max=5000)]
    )
    challenge_provider = SelectField(
        "Challenge (verified by the worker; a failed one is spam)",
        choices=[
            SelectChoice("", "None"),
            SelectChoice("turnstile", "Cloudflare Turnstile"),
            SelectChoice("hcaptcha", "hCaptcha"),
            SelectChoice("recaptcha_v3", "reCAPTCHA v3"),
        ],
        validate_choice=False,
    )
    challenge_site_key = StringField("Challenge site key (public)", validators=[Optional(), Length(max=200)])
    challenge_secret = PasswordField(
        "Challenge secret key (empty keeps the stored one; never shown)", validators=[Optional(), Length(max=500)]
    )
    challenge_min_score = StringField("reCAPTCHA v3 lowest passing score (0.0–1.0, default 0.5)")
    akismet = BooleanField("Ask Akismet about the message (needs AKISMET_API_KEY)")
    destinations = MultiCheckboxField("Send accepted leads to", coerce=int, choices=[])


class ListEntryForm(FlaskForm):
    """Add one entry, or many pasted one per line / as CSV (value[,note])."""

    kind = SelectField("List", choices=[])
    values = TextAreaField(
        "Values (one per line; CSV value,note also works)",
        validators=[DataRequired("Enter at least one value."), Length(max=200_000)],
    )
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class RemoveForm(FlaskForm):
    """A CSRF-protected POST that removes something, with an optional note."""

    note = StringField("Note", validators=[Optional(), Length(max=500)])


class DestinationForm(FlaskForm):
    """A destination and its routing rule."""

    name = StringField("Name", validators=[Optional(), Length(max=200)])
    kind = SelectField("Kind", choices=[])
    target = StringField(
        "URL or e-mail address(es)", validators=[DataRequired("Enter where to send leads."), Length(max=2048)]
    )
    stages = MultiCheckboxField("Stages", choices=[SelectChoice(s, s) for s in Stage])
    forms = MultiCheckboxField("Forms (none ticked = every form)", choices=[])
    # Choices are the event types (app/statuses.py EventType), set by the view: forms/ does not import app.
    events = MultiCheckboxField(
        "Events (none ticked = new leads and stage changes for e-mail and Slack, every lead event but "
        "lead.feedback for the others)",
        choices=[],
    )
    oid = StringField("Salesforce organisation id (oid)", validators=[Optional(), Length(max=64)])
    alerts = BooleanField("Send alerts here (e-mail, Slack or webhook): dead deliveries, an old queue, DNS down …")
    alert_digest = BooleanField("Daily digest: one message a day listing the alerts, instead of one per alert")


class DestinationEditForm(DestinationForm):
    """Edit a destination: everything but its kind (the kind decides the secret and the payload format)."""

    kind = None  # type: ignore[assignment]
    options = TextAreaField(
        "Other options (key = value, one per line; e.g. lead_source = Web)", validators=[Optional(), Length(max=5000)]
    )
    active = BooleanField("Active (receives new leads)", default=True)


class SuggestionForm(FlaskForm):
    """Block or dismiss one domain sales put forward for review."""

    domain = HiddenField(validators=[DataRequired(), Length(max=253)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])
