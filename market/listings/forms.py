"""Forms of the marketplace pages: requests, quotes, service areas, storefront offers."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from market.accounts.forms import MultiCheckboxField
from market.errors import ValidationFailed
from market.listings.validation import today
from market.money import kg_from_tonnes
from market.web.fields import (MONEY_RANGE, RegionField, RegionListField, fen_from_yuan,
                               region_validators)
from market.web.forms import Form

FORM_CHOICES = [("solid", _l("solid")), ("sludge", _l("sludge")), ("liquid", _l("liquid")),
                ("gas_in_container", _l("gas in container"))]
HAZARD_CHOICES = [("T", _l("toxicity (T)")), ("C", _l("corrosivity (C)")),
                  ("I", _l("ignitability (I)")), ("R", _l("reactivity (R)")),
                  ("In", _l("infectivity (In)"))]
METHOD_GROUP_CHOICES = [("", _l("any method")), ("R", _l("utilisation (R)")),
                        ("D10", _l("incineration (D10)")), ("D1", _l("landfill (D1)")),
                        ("D9", _l("physico-chemical treatment (D9)")),
                        ("C1", _l("cement kiln co-processing (C1)")), ("other", _l("other"))]
RECURRING_CHOICES = [("none", _l("one-off")), ("weekly", _l("weekly")), ("monthly", _l("monthly"))]
UNIT_CHOICES = [("t", _l("t")), ("kg", _l("kg"))]


def _required():
    return DataRequired(message=_l("This field is required."))


def _number_required():
    # DataRequired would call 0 missing; zero must reach the services, which name the rule.
    return InputRequired(message=_l("This field is required."))


def kg_from(quantity: Decimal | None, unit: str, field: str = "quantity_kg") -> int | None:
    """A quantity typed in t or kg as whole kilograms; fractions of a kilogram are refused."""
    if quantity is None:
        return None
    if unit == "kg":
        if Decimal(quantity) != Decimal(quantity).to_integral_value():
            raise ValidationFailed(_("Quantity must be a whole number of kilograms."), field=field)
        return int(quantity)
    return kg_from_tonnes(quantity)


def split_prefixes(text: str | None) -> list[str]:
    """Region prefixes typed with commas (either width), spaces or new lines."""
    for sep in ("，", ",", "、", ";", "\n"):
        text = (text or "").replace(sep, " ")
    return [p for p in text.split(" ") if p.strip()]


class RequestForm(Form):
    category = SelectField(_l("Waste category"), validators=[Optional()])
    waste_code = StringField(_l("Waste code"), validators=[Optional(), Length(max=10)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    form = SelectField(_l("Physical form"), choices=FORM_CHOICES)
    packaging = StringField(_l("Packaging"), validators=[Length(max=100)])
    hazards = MultiCheckboxField(_l("Hazard characteristics"), choices=HAZARD_CHOICES)
    quantity = DecimalField(_l("Quantity"), places=3, validators=[_number_required()])
    unit = SelectField(_l("Unit"), choices=UNIT_CHOICES, default="t")
    region_code = RegionField(_l("Pickup region"), validators=region_validators())
    address = StringField(_l("Pickup address"), validators=[_required(), Length(max=300)])
    window_start = DateField(_l("Wanted from"), validators=[_required()],
                             default=lambda: today() + timedelta(days=7))
    window_end = DateField(_l("Wanted until"), validators=[_required()],
                           default=lambda: today() + timedelta(days=37))
    method_group = SelectField(_l("Preferred method group"), choices=METHOD_GROUP_CHOICES, default="")
    requires_sampling = BooleanField(_l("Sampling test required before the price is final"))
    budget = DecimalField(_l("Budget (yuan, optional)"), places=2, validators=[Optional(), MONEY_RANGE])
    recurring = SelectField(_l("Recurring"), choices=RECURRING_CHOICES, default="none")

    def service_data(self, category_of_code) -> dict:
        """The fields as listings.services expects them (kg, fen, category from the code if blank)."""
        code = (self.waste_code.data or "").strip()
        category = self.category.data or (category_of_code(code) if code else "") or ""
        return dict(category=category, waste_code=code or None, description=self.description.data,
                    form=self.form.data, packaging=self.packaging.data, hazards=self.hazards.data,
                    quantity_kg=kg_from(self.quantity.data, self.unit.data),
                    region_code=(self.region_code.data or "").strip(), address=self.address.data,
                    window_start=self.window_start.data, window_end=self.window_end.data,
                    method_group=self.method_group.data or None,
                    requires_sampling=bool(self.requires_sampling.data),
                    budget_fen=fen_from_yuan(self.budget.data), recurring=self.recurring.data)


# Service field name → form field name, for attach_error().
REQUEST_FIELD_MAP = {"quantity_kg": "quantity", "budget_fen": "budget"}


class RepostForm(Form):
    window_start = DateField(_l("Wanted from"), validators=[_required()],
                             default=lambda: today() + timedelta(days=7))
    window_end = DateField(_l("Wanted until"), validators=[_required()],
                           default=lambda: today() + timedelta(days=37))


class QuoteForm(Form):
    unit_price = DecimalField(_l("Unit price (yuan per tonne)"), places=2,
                              validators=[_number_required(), MONEY_RANGE])
    transport_fee = DecimalField(_l("Transport fee (yuan)"), places=2, default=Decimal("0"),
                                 validators=[Optional(), MONEY_RANGE])
    valid_until = DateField(_l("Valid until"), validators=[_required()],
                            default=lambda: today() + timedelta(days=14))
    subject_to_sampling = BooleanField(_l("Subject to sampling"))
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])


QUOTE_FIELD_MAP = {"unit_price_fen_per_t": "unit_price", "transport_fee_fen": "transport_fee"}


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Length(max=1000)])


class ServiceAreasForm(Form):
    prefixes = RegionListField(_l("Service regions"), validators=[Length(max=2000)], prefixes=True)


class AlertPreferencesForm(Form):
    categories = MultiCheckboxField(_l("Waste categories"))
    region_prefixes = RegionListField(_l("Regions of the requests"), validators=[Length(max=2000)],
                                      prefixes=True)


class OfferForm(Form):
    category = SelectField(_l("Waste category"), validators=[_required()])
    waste_code = StringField(_l("Waste code (optional)"), validators=[Optional(), Length(max=10)])
    method_code = SelectField(_l("Method"), validators=[_required()])
    service_region_prefixes = RegionListField(
        _l("Service regions"), prefixes=True,
        validators=[DataRequired(message=_l("Add at least one province, city or district you collect from.")),
                    Length(max=500)])
    min_t = DecimalField(_l("Minimum quantity (t)"), places=3, validators=[_number_required()])
    max_t = DecimalField(_l("Maximum quantity (t)"), places=3, validators=[_number_required()])
    unit_price = DecimalField(_l("Unit price (yuan per tonne)"), places=2,
                              validators=[_number_required(), MONEY_RANGE])
    transport_fee = DecimalField(_l("Transport fee (yuan)"), places=2, default=Decimal("0"),
                                 validators=[Optional(), MONEY_RANGE])
    lead_time_days = IntegerField(_l("Lead time (days)"), default=7,
                                  validators=[Optional(), NumberRange(min=0, max=365)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])

    def service_data(self) -> dict:
        return dict(category=self.category.data, waste_code=(self.waste_code.data or "").strip() or None,
                    method_code=self.method_code.data,
                    service_region_prefixes=split_prefixes(self.service_region_prefixes.data),
                    min_kg=kg_from_tonnes(self.min_t.data), max_kg=kg_from_tonnes(self.max_t.data),
                    unit_price_fen_per_t=fen_from_yuan(self.unit_price.data),
                    transport_fee_fen=fen_from_yuan(self.transport_fee.data) or 0,
                    lead_time_days=7 if self.lead_time_days.data is None else self.lead_time_days.data,
                    description=self.description.data)


OFFER_FIELD_MAP = {"min_kg": "min_t", "max_kg": "max_t", "unit_price_fen_per_t": "unit_price",
                   "transport_fee_fen": "transport_fee"}


class OrderFromOfferForm(Form):
    quantity = DecimalField(_l("Quantity"), places=3, validators=[_number_required()])
    unit = SelectField(_l("Unit"), choices=UNIT_CHOICES, default="t")
    region_code = RegionField(_l("Pickup region"), validators=region_validators())
    address = StringField(_l("Pickup address"), validators=[_required(), Length(max=300)])
    wanted_on = DateField(_l("Pickup date"), validators=[_required()])


ORDER_FIELD_MAP = {"quantity_kg": "quantity"}


class RequestFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])


class OfferFilterForm(Form):
    class Meta:
        csrf = False

    category = SelectField(_l("Waste category"), validators=[Optional()])
    code = StringField(_l("Waste code"), validators=[Optional(), Length(max=10)])
    region = RegionField(_l("Pickup region"), validators=[Optional(), Length(max=6)])
    method = SelectField(_l("Method"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=[("price", _l("price")), ("distance", _l("distance"))],
                       default="price", validators=[Optional()])
