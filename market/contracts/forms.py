"""Forms of the contract pages: signing, revisions, verification."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from market.web.forms import Form


class SignForm(Form):
    password = PasswordField(_l("Your password"), validators=[Length(max=200)])
    sha256 = HiddenField()


class RevisionForm(Form):
    quantity_kg = IntegerField(_l("New quantity (kg)"), validators=[Optional(), NumberRange(min=1)])
    window_start = DateField(_l("New window from"), validators=[Optional()])
    window_end = DateField(_l("New window until"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class NoteForm(Form):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class VerifyForm(Form):
    pdf = FileField(_l("Contract PDF"))
    sha256 = StringField(_l("or its SHA-256 hash"), validators=[Optional(), Length(max=80)])
