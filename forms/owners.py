"""Admin forms for owners and assignment rules (app/admin/owners.py); the service checks the values again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class OwnerForm(FlaskForm):
    """A new owner: a salesperson by name and e-mail, optionally linked to a user who signs in."""

    name = StringField("Name", validators=[DataRequired("Enter the owner's name."), Length(max=200)])
    email = StringField("E-mail", validators=[DataRequired("Enter the owner's e-mail."), Length(max=320)])
    user_id = SelectField("Admin user (optional)", choices=[], validators=[Optional()])


class OwnerStateForm(FlaskForm):
    """Whether an owner gets leads at all, and whether round-robin includes them."""

    active = BooleanField("Active")
    in_rotation = BooleanField("In round-robin")


class RuleForm(FlaskForm):
    """Leads whose country, company size or form equals a value go to one owner."""

    field = SelectField("When", choices=[])
    value = StringField("equals", validators=[DataRequired("Enter the value to compare."), Length(max=200)])
    owner_id = SelectField("assign to", choices=[], validators=[DataRequired("Choose an owner.")])


class ReassignForm(FlaskForm):
    """Give a lead another owner (or nobody)."""

    owner_id = SelectField("Owner", choices=[], validators=[Optional()])
