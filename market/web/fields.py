"""Form fields shared by the pages' forms: the region picker's field.

A RegionField is drawn by templates/_forms.html as three selects (province, city, district) with a
name search (static/js/inputs.js). Its data is always one six-digit code, so services and the API
are unchanged: the deepest level chosen, where each level belongs to the one above it (without
JavaScript a user may change the province and leave an old city chosen: the old city is ignored).
A form posted with the code alone (scripts, tests, the old forms) is read as that code.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Regexp

PROVINCE, CITY = "-province", "-city"


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
