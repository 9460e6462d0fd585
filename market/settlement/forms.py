"""Forms of the settlement pages: the disposal certificate, a bank payout recorded by finance,
the payee's bank account, payout batches."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FileField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from market.escrow.forms import TokenForm, YuanField
from market.web.forms import Form


class CertificateForm(Form):
    certificate = FileField(_l("Disposal certificate (PDF, JPEG or PNG)"))


class PayoutForm(TokenForm):
    org_id = IntegerField(_l("Organisation"), validators=[DataRequired(), NumberRange(min=1)])
    amount = YuanField(_l("Amount paid out (yuan)"), validators=[DataRequired()])
    bank_ref = StringField(_l("Bank reference of the transfer"),
                           validators=[DataRequired(), Length(max=100)])


class BankAccountForm(Form):
    account_name = StringField(_l("Account name"), validators=[DataRequired(), Length(max=200)])
    bank_name = StringField(_l("Bank"), validators=[DataRequired(), Length(max=200)])
    account_number = StringField(_l("Account number"),
                                 validators=[DataRequired(), Length(max=60)])


class RejectAccountForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class BatchForm(TokenForm):
    """Build a payout batch; its token makes a double submission build one batch."""


class ReturnLineForm(Form):
    reason = StringField(_l("Why the bank returned it"),
                         validators=[DataRequired(), Length(max=500)])
