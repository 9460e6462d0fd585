"""Forms of the administrators' price page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from market.web.fields import fen_from_yuan
from market.web.forms import Form

RELEASE_CHOICES = [("preliminary", _l("preliminary")), ("final", _l("final"))]


class RunForm(Form):
    month = StringField(_l("Reference month (YYYY-MM)"), validators=[
        InputRequired(message=_l("This field is required.")),
        Regexp(r"^\d{4}-\d{2}$", message=_l("Give the month as YYYY-MM."))])
    release = SelectField(_l("Release"), choices=RELEASE_CHOICES)


class TariffForm(Form):
    category_code = StringField(_l("Category"), default="HW01", validators=[
        InputRequired(message=_l("This field is required.")), Length(max=4)])
    region_prefix = StringField(_l("Region prefix"), validators=[
        InputRequired(message=_l("This field is required.")), Length(max=6)])
    price_yuan = DecimalField(_l("Tariff (yuan per tonne)"), places=2, validators=[
        InputRequired(message=_l("This field is required.")), NumberRange(min=0, max=10**9)])
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    source = StringField(_l("Source (price notice)"), validators=[Optional(), Length(max=300)])

    def price_fen(self) -> int:
        return fen_from_yuan(self.price_yuan.data)
