"""Forms of the settlement pages: the disposal certificate, a bank payout recorded by finance."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FileField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from market.escrow.forms import TokenForm, YuanField


class CertificateForm(FlaskForm):
    certificate = FileField(_l("Disposal certificate (PDF, JPEG or PNG)"))


class PayoutForm(TokenForm):
    org_id = IntegerField(_l("Organisation"), validators=[DataRequired(), NumberRange(min=1)])
    amount = YuanField(_l("Amount paid out (yuan)"), validators=[DataRequired()])
    bank_ref = StringField(_l("Bank reference of the transfer"),
                           validators=[DataRequired(), Length(max=100)])
