"""The admin's erase-a-person form: the address must be typed again to confirm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class EraseForm(FlaskForm):
    """CSRF token plus the person's address, typed by hand so a stray click erases nothing."""

    confirm_email = StringField(
        "Type the lead's e-mail address to confirm", validators=[DataRequired(), Length(max=320)]
    )
