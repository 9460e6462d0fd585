"""Refusals about catalog entries, each saying what to enter instead (one wording everywhere)."""
from __future__ import annotations

from flask_babel import gettext as _


def unknown_category(code: str | None) -> str:
    if not (code or "").strip():
        return _("Choose a waste category from the list, or enter a waste code: its category is taken "
                 "from it.")
    return _("Unknown waste category %(c)s: choose one from the list (HW01 to HW50) or search by an "
             "everyday word such as waste oil.", c=code)


def unknown_code(code: str) -> str:
    return _("Unknown waste code %(c)s: enter eight digits such as 900-214-08, or search by name or "
             "everyday word and choose a suggestion.", c=code)


def code_of_other_category(code: str, category: str, chosen: str) -> str:
    return _("Waste code %(c)s belongs to %(cat)s, not %(chosen)s: choose %(cat)s as the category, or "
             "a code of %(chosen)s.", c=code, cat=category, chosen=chosen)


def unknown_region(code: str | None) -> str:
    if not (code or "").strip():
        return _("Choose the province, then the city and district, or search by name.")
    return _("Region code %(code)s is not in the region table: choose the province, city and district "
             "from the lists, or search by name.", code=code)


def unknown_method(code: str | None) -> str:
    if not (code or "").strip():
        return _("Choose a utilisation or disposal method from the list.")
    return _("Unknown method code %(c)s: choose a method from the list, such as R9 or D10.", c=code)
