"""Forms of the escrow and finance pages. Amounts are typed in yuan and kept as integer fen."""
from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from market.web.forms import Form

MAX_YUAN = Decimal("10000000000")  # ¥10 billion: far beyond any order


def yuan_to_fen(text: str | None) -> int:
    """'1 234.56' → 123456; ValueError for anything that is not a positive amount in yuan."""
    raw = (text or "").replace(",", "").replace(" ", "").replace("¥", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not value.is_finite() or value <= 0 or value > MAX_YUAN or value != value.quantize(
            Decimal("0.01")):
        raise ValueError("not a positive amount with at most two decimals")
    return int(value * 100)


class YuanField(StringField):
    """A money input in yuan; .fen holds the integer fen once validated."""
    fen: int | None = None

    def pre_validate(self, form):
        try:
            self.fen = yuan_to_fen(self.data)
        except ValueError:
            self.fen = None
            raise ValidationError(_l("Enter a positive amount in yuan with at most two decimals."))


def new_token() -> str:
    return secrets.token_hex(16)


class TokenForm(Form):
    """A money-moving form: its one-time token makes a double submission post once."""
    idem = HiddenField(default=new_token)


class DisputeForm(TokenForm):
    reason = TextAreaField(_l("What went wrong"), validators=[DataRequired(), Length(max=2000)])
    evidence = MultipleFileField(_l("Evidence (PDF, JPEG or PNG)"))


class ProposalForm(TokenForm):
    reason = TextAreaField(_l("Why cancel"), validators=[DataRequired(), Length(max=2000)])


class AnswerForm(TokenForm):
    decision = HiddenField()


class ResolveForm(TokenForm):
    note = TextAreaField(_l("Decision and reasons"), validators=[Length(max=2000)])


class ReceiptForm(TokenForm):
    reference = StringField(_l("Reference on the transfer"), validators=[DataRequired(),
                                                                          Length(max=100)])
    amount = YuanField(_l("Amount received (¥)"), validators=[DataRequired()])
    received_on = DateField(_l("Value date"), validators=[DataRequired()])
    payer_name = StringField(_l("Payer account name"), validators=[DataRequired(),
                                                                   Length(max=200)])
    bank_ref = StringField(_l("Bank transaction reference"), validators=[DataRequired(),
                                                                          Length(max=100)])


class MatchForm(TokenForm):
    receipt_id = HiddenField(validators=[DataRequired()])
    reference = StringField(_l("Funding reference"), validators=[DataRequired(), Length(max=100)])
    amount = YuanField(_l("Amount (¥)"), validators=[DataRequired()])


class ReturnForm(TokenForm):
    receipt_id = HiddenField(validators=[DataRequired()])
    amount = YuanField(_l("Amount (¥)"), validators=[DataRequired()])
    bank_ref = StringField(_l("Bank reference of the return transfer"),
                           validators=[DataRequired(), Length(max=100)])
