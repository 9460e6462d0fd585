"""Forms of the collection pages: find and book a round from a phone, publish and run a round."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, DateTimeLocalField, DecimalField, HiddenField,
                     IntegerField, SelectField, StringField)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from market.web.fields import (MONEY_RANGE, RegionField, RegionListField, fen_from_yuan,
                               region_validators)
from market.web.forms import Form


class BookForm(Form):
    round_id = HiddenField(validators=[DataRequired()])
    category = SelectField(_l("Waste category"), validators=[DataRequired()])
    waste_code = StringField(_l("Waste code (optional)"), validators=[Optional(), Length(max=10)])
    estimated_kg = IntegerField(_l("Estimated weight (kg)"),
                                validators=[DataRequired(), NumberRange(min=1)])
    containers = IntegerField(_l("Containers"), default=1,
                              validators=[DataRequired(), NumberRange(min=1, max=1000)])
    region_code = RegionField(_l("Pickup region"), validators=region_validators())
    address = StringField(_l("Pickup address"), validators=[DataRequired(), Length(max=300)])

    def service_data(self) -> dict:
        return {"category": self.category.data, "waste_code": self.waste_code.data or None,
                "estimated_kg": self.estimated_kg.data, "containers": self.containers.data,
                "region_code": (self.region_code.data or "").strip(),
                "address": self.address.data}


class PublishForm(Form):
    date = DateField(_l("Date"), validators=[DataRequired()])
    window_start = StringField(_l("From"), default="09:00", validators=[DataRequired()])
    window_end = StringField(_l("To"), default="17:00", validators=[DataRequired()])
    region_codes = RegionListField(_l("Regions served"), validators=[
        DataRequired(message=_l("Add at least one region the round serves."))])
    categories = StringField(_l("Categories collected (comma separated)"),
                             validators=[DataRequired()])
    # In yuan per tonne, as every price on the exchange is shown; a round keeps whole fen per kg.
    price = DecimalField(_l("Price (yuan per tonne; negative: you pay)"), places=2,
                         validators=[InputRequired(), MONEY_RANGE])
    minimum = DecimalField(_l("Minimum charge per pickup (yuan)"), places=2, default=Decimal("0"),
                           validators=[Optional(), NumberRange(min=0), MONEY_RANGE])
    vehicle_capacity_kg = IntegerField(_l("Vehicle capacity (kg)"),
                                       validators=[DataRequired(), NumberRange(min=1)])
    booking_closes_at = DateTimeLocalField(_l("Bookings close"), format="%Y-%m-%dT%H:%M",
                                           validators=[DataRequired()])
    repeat = SelectField(_l("Repeat"), choices=[("none", _l("once")), ("weekly", _l("weekly")),
                                                ("monthly", _l("monthly"))], default="none")

    def validate_price(self, field):
        if field.data is not None and (field.data * 100) % 1000:
            raise ValidationError(_l("Enter the price in steps of ¥10 per tonne (1 fen per kg)."))

    def service_data(self, tz) -> dict:
        return {"date": self.date.data, "window_start": self.window_start.data,
                "window_end": self.window_end.data, "region_codes": self.region_codes.data,
                "categories": self.categories.data,
                "price_fen_per_kg": int(self.price.data * 100 / 1000),
                "minimum_fen": fen_from_yuan(self.minimum.data) or 0,
                "vehicle_capacity_kg": self.vehicle_capacity_kg.data,
                "booking_closes_at": self.booking_closes_at.data.replace(tzinfo=tz),
                "repeat": self.repeat.data}


# The service's names for the two amounts, and the fields that take them in yuan.
PUBLISH_FIELD_MAP = {"price_fen_per_kg": "price", "minimum_fen": "minimum"}


class StartForm(Form):
    vehicle_plate = StringField(_l("Vehicle plate"), validators=[DataRequired(), Length(max=12)])
    driver_name = StringField(_l("Driver"), validators=[DataRequired(), Length(max=50)])
    driver_phone = StringField(_l("Driver's mobile"), validators=[DataRequired(), Length(max=20)])


class PickupForm(Form):
    weighed_kg = IntegerField(_l("Weighed (kg)"), validators=[Optional(), NumberRange(min=1)])
    no_show = BooleanField(_l("Nobody handed the waste over (no-show)"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ReceiveForm(Form):
    method_code = StringField(_l("Method code"), validators=[DataRequired(), Length(max=4)])


class CancelForm(Form):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=1000)])
