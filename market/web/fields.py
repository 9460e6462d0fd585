"""Form fields shared by the pages' forms: the region picker's field, and money typed in yuan.

A RegionField is drawn by templates/_forms.html as three selects (province, city, district) with a
name search (static/js/inputs.js). Its data is always one six-digit code, so services and the API
are unchanged: the deepest level chosen, where each level belongs to the one above it (without
JavaScript a user may change the province and leave an old city chosen: the old city is ignored).
A form posted with the code alone (scripts, tests, the old forms) is read as that code.
"""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, NumberRange, Regexp

from market.money import round_half_even

# A yuan amount with at most two decimals; larger values are refused by the services.
MONEY_RANGE = NumberRange(min=-10**11, max=10**11)


def fen_from_yuan(yuan: Decimal | None) -> int | None:
    """Yuan as typed (two decimals at most) to integer fen, by the one rounding rule."""
    return None if yuan is None else round_half_even(Decimal(yuan) * 100)


PROVINCE, CITY, DISTRICT = "-province", "-city", "-district"


def _code(value) -> str:
    value = (value or "").strip()
    return value if len(value) == 6 and value.isascii() and value.isdigit() else ""


def resolve(province: str | None, city: str | None, district: str | None) -> str:
    """The deepest consistent level of the three chosen values."""
    p, c, d = _code(province), _code(city), _code(district)
    if not p and not c:
        return (district or "").strip()
    chosen = p
    if c and c != p and (not p or c[:2] == p[:2]):
        chosen = c
        if d and d != c and c.endswith("00") and d[:4] == c[:4]:
            chosen = d
    return chosen


class RegionField(StringField):
    """A region (GB/T 2260 code) chosen with the province → city → district picker."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data=data, extra_filters=extra_filters)
        if formdata is not None and (self.name + PROVINCE in formdata or self.name + CITY in formdata):
            self.data = resolve(formdata.get(self.name + PROVINCE), formdata.get(self.name + CITY),
                                formdata.get(self.name))
            self.raw_data = [self.data]


def region_validators() -> list:
    """Required, and a six-digit code: each message says what to do."""
    return [DataRequired(message=_l("Choose the province, then the city and district, or search by name.")),
            Regexp(r"^\d{6}$", message=_l("Choose a region from the lists (it has a six-digit code such as "
                                          "440305)."))]


def as_prefix(code: str) -> str:
    """A region code as the prefix that covers it: 440000 → 44, 440300 → 4403, 440305 → 440305."""
    if code.endswith("0000"):
        return code[:2]
    return code[:4] if code.endswith("00") else code


def as_code(prefix: str) -> str:
    """A prefix as the code of the region it names: 44 → 440000, 4403 → 440300."""
    return (prefix + "000000")[:6] if len(prefix) in (2, 4) else prefix


def split_codes(text: str | None) -> list[str]:
    """Codes or prefixes typed with commas (either width), 、, semicolons, spaces or new lines."""
    for sep in ("，", ",", "、", ";", "\r", "\n"):
        text = (text or "").replace(sep, " ")
    return [p for p in text.split(" ") if p.strip()]


class RegionListField(StringField):
    """Several regions, each chosen with the picker and added to a list (rounds' regions, service
    areas). Its data stays the comma-separated text the views and services already read: codes, or
    with prefixes=True the prefixes covering each region (a city 440300 → 4403).

    Posted as: one input per region kept (checkboxes, unticked ones are dropped) and the picker's
    three selects; a region chosen in the picker is added when the form is submitted or by the Add
    button (the REFINE step "add"), not while the picker only shows the next level ("region").
    """

    def __init__(self, label=None, validators=None, prefixes: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.prefixes = prefixes

    def process_formdata(self, valuelist):
        self.data = ", ".join(dict.fromkeys(c for value in valuelist for c in split_codes(value)))

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data=data, extra_filters=extra_filters)
        if formdata is None or self.name + PROVINCE not in formdata:
            return
        step = (formdata.get("_refine") or "").strip()
        picked = resolve(formdata.get(self.name + PROVINCE), formdata.get(self.name + CITY),
                         formdata.get(self.name + DISTRICT))
        if picked and step != "region":
            picked = as_prefix(picked) if self.prefixes else picked
            codes = split_codes(self.data)
            self.data = ", ".join(dict.fromkeys(codes + [picked]))

    @property
    def entries(self) -> list[tuple[str, str]]:
        """The regions listed: (the value posted, the region's code for its names)."""
        return [(p, as_code(p)) for p in split_codes(self.data)]

    def picking(self, formdata) -> str:
        """The picker's choice to draw again while it only shows the next level, else ""."""
        if formdata is None or (formdata.get("_refine") or "").strip() != "region":
            return ""
        return resolve(formdata.get(self.name + PROVINCE), formdata.get(self.name + CITY),
                       formdata.get(self.name + DISTRICT))
