"""Flask-WTF form classes, one per form kind, and each kind's intent."""

from forms.base import CONTACT_FIELDS, CONTEXT_FIELDS, LeadForm
from forms.kinds import FORM_KINDS, build_form, form_class

__all__ = [
    "CONTACT_FIELDS",
    "CONTEXT_FIELDS",
    "FORM_KINDS",
    "LeadForm",
    "build_form",
    "form_class",
]
