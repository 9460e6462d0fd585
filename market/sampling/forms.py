"""Forms of the sampling pages: request a test, the lab's steps, the report, the price gate."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from market.accounts.forms import MultiCheckboxField
from market.money import round_half_even
from market.sampling.analytes import ANALYTES
from market.web.forms import Form

ANALYTE_LABELS = {
    "ph": _l("pH"), "calorific_value": _l("Calorific value"), "halogens": _l("Halogens"),
    "sulphur": _l("Sulphur"), "water": _l("Water content"), "flash_point": _l("Flash point"),
    "Pb": _l("Lead (Pb)"), "Cd": _l("Cadmium (Cd)"), "Cr": _l("Chromium (Cr)"),
    "Hg": _l("Mercury (Hg)"), "As": _l("Arsenic (As)"), "Ni": _l("Nickel (Ni)"),
    "Cu": _l("Copper (Cu)"), "Zn": _l("Zinc (Zn)"),
}
# Yuan as typed; the services judge the range and name the rule.
YUAN_RANGE = NumberRange(min=-10**11, max=10**11)


def _required():
    return DataRequired(message=_l("This field is required."))


def fen(yuan: Decimal | None) -> int | None:
    """Yuan with at most two decimals to integer fen, by the one rounding rule."""
    return None if yuan is None else round_half_even(Decimal(yuan) * 100)


def analyte_label(code: str) -> str:
    """The analyte's name in the request's language, with its unit."""
    return f"{ANALYTE_LABELS[code]} ({ANALYTES[code].unit})"


class SamplingRequestForm(Form):
    lab_org_id = SelectField(_l("Laboratory"), coerce=int, validators=[InputRequired()])
    analytes = MultiCheckboxField(_l("Analytes"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Per form, not at import: a label formatted then would be fixed in one language.
        self.analytes.choices = [(code, analyte_label(code)) for code in ANALYTES]


class LabAcceptForm(Form):
    fee = DecimalField(_l("Sampling fee (yuan)"), places=2,
                       validators=[InputRequired(message=_l("This field is required.")),
                                   NumberRange(min=0, max=10**7)])


class CollectForm(Form):
    collected_on = DateField(_l("Sampling date"), validators=[_required()])
    sampler = StringField(_l("Sampler"), validators=[_required(), Length(max=100)])
    custody_number = StringField(_l("Chain-of-custody number"), validators=[_required(), Length(max=60)])


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class PriceForm(Form):
    unit_price = DecimalField(_l("Unit price after the test (yuan per tonne)"), places=2,
                              validators=[InputRequired(message=_l("This field is required.")),
                                          YUAN_RANGE])


class DeclineForm(Form):
    decline = TextAreaField(_l("Reason for declining"), validators=[_required(), Length(max=1000)])


class ResultsForm(Form):
    report = FileField(_l("Signed report (PDF)"))


def results_form(analytes: list[str]) -> ResultsForm:
    """The report form for these analytes: a value and a method standard for each."""
    class Form(ResultsForm):
        pass
    for code in analytes:
        setattr(Form, f"value_{code}", StringField(analyte_label(code),
                                                   validators=[Length(max=30)]))
        setattr(Form, f"method_{code}", StringField(_l("Method standard"), validators=[Length(max=100)]))
    return Form()


def results_data(form: ResultsForm, analytes: list[str]) -> dict:
    """The typed results as report_results() takes them."""
    return {code: {"value": (getattr(form, f"value_{code}").data or "").strip(),
                   "method": getattr(form, f"method_{code}").data or ""} for code in analytes}
