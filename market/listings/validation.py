"""Field checks shared by the listings use cases; each failure names the field and the rule."""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.acting import suspended
from market.accounts.models import User
from market.catalog import messages as catalog_messages
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode
from market.db import utcnow
from market.errors import PermissionDenied, ValidationFailed
from market.jobs.schedule import TZ
from market.listings.models import FORMS, HAZARDS, METHOD_GROUPS, RECURRING
from market.oversight.sanctions import blacklist_in_force
from market.web.i18n import date as shown_date

MAX_QUANTITY_KG = 1_000_000_000  # 1 Mt: beyond any single consignment
MAX_MONEY_FEN = 10**13  # ¥100 bn: guards BigInteger arithmetic downstream, not a business limit


def today() -> date:
    """The business date in China, where windows and validity dates are meant."""
    return utcnow().astimezone(TZ).date()


def small_lot_kg() -> int:
    return int(current_app.config["SMALL_LOT_KG"])


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def whole_kg(value, field: str = "quantity_kg") -> int:
    if not _is_int(value):
        raise ValidationFailed(_("Quantity must be a whole number of kilograms."), field=field)
    if value <= 0:
        raise ValidationFailed(_("Quantity must be more than 0 kg."), field=field)
    if value > MAX_QUANTITY_KG:
        raise ValidationFailed(_("Quantity must be at most %(max)s kg.", max=f"{MAX_QUANTITY_KG:,}"),
                               field=field)
    return value


def money_fen(value, field: str, *, negative: bool = True, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if not _is_int(value):
        raise ValidationFailed(_("Amounts are whole numbers of fen."), field=field)
    if not negative and value < 0:
        raise ValidationFailed(_("This amount cannot be negative."), field=field)
    if abs(value) > MAX_MONEY_FEN:
        raise ValidationFailed(_("This amount is implausibly large."), field=field)
    return value


def category(code: str | None, field: str = "category") -> str:
    code = (code or "").strip().upper()
    if db.session.get(WasteCategory, code) is None:
        raise ValidationFailed(catalog_messages.unknown_category(code), field=field)
    return code


def waste_code(code: str | None, category_code: str, field: str = "waste_code") -> str | None:
    """A known code of the given category, or None when no code is given."""
    code = (code or "").strip()
    if not code:
        return None
    wc = db.session.get(WasteCode, code)
    if wc is None:
        raise ValidationFailed(catalog_messages.unknown_code(code), field=field)
    if wc.category_code != category_code:
        raise ValidationFailed(catalog_messages.code_of_other_category(
            code, wc.category_code, category_code), field=field)
    return code


def region(code: str | None, field: str = "region_code") -> Region:
    r = db.session.get(Region, (code or "").strip())
    if r is None:
        raise ValidationFailed(catalog_messages.unknown_region(code), field=field)
    return r


def region_prefixes(prefixes, field: str) -> list[str]:
    """Region prefixes (2, 4 or 6 digits) that each begin at least one known region code."""
    out = []
    for raw in prefixes or []:
        p = str(raw).strip()
        if not p:
            continue
        if not (p.isascii() and p.isdigit() and len(p) in (2, 4, 6)):
            raise ValidationFailed(_("Region prefix %(p)s must have 2, 4 or 6 digits.", p=p), field=field)
        if db.session.scalar(select(Region.code).where(Region.code.startswith(p)).limit(1)) is None:
            raise ValidationFailed(_("No region starts with %(p)s.", p=p), field=field)
        if p not in out:
            out.append(p)
    return out


def method(code: str | None, field: str = "method_code") -> str:
    code = (code or "").strip().upper()
    if db.session.get(DisposalMethod, code) is None:
        raise ValidationFailed(catalog_messages.unknown_method(code), field=field)
    return code


def choice(value, allowed: tuple[str, ...], field: str, *, optional: bool = False) -> str | None:
    if optional and value in (None, ""):
        return None
    if value not in allowed:
        raise ValidationFailed(_("Choose one of: %(choices)s.", choices=", ".join(allowed)), field=field)
    return value


def form(value) -> str:
    return choice(value, FORMS, "form")


def recurring(value) -> str:
    return choice(value or "none", RECURRING, "recurring")


def method_group(value) -> str | None:
    return choice(value, METHOD_GROUPS, "method_group", optional=True)


def hazards(values) -> list[str]:
    values = [v.strip() for v in (values or []) if v and v.strip()]
    bad = [v for v in values if v not in HAZARDS]
    if bad:
        raise ValidationFailed(_("Unknown hazard characteristic %(h)s; use T, C, I, R or In.",
                                 h=", ".join(bad)), field="hazards")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValidationFailed(_("%(c)s is listed twice.", c=", ".join(twice)), field="hazards")
    return [h for h in HAZARDS if h in values]


def text(value, field: str, max_len: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(_("This field is required."), field=field)
    if len(value) > max_len:
        raise ValidationFailed(_("At most %(n)d characters.", n=max_len), field=field)
    return value


def a_date(value, field: str) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(_("Enter a date."), field=field)
    return value


def window_not_started(start: date) -> None:
    """A wanted window that is posted must not start in the past."""
    if start < today():
        raise ValidationFailed(_("The wanted window cannot start in the past (today is %(d)s).",
                                 d=shown_date(today())), field="window_start")


def window(start, end, *, check_start: bool = True) -> tuple[date, date]:
    start, end = a_date(start, "window_start"), a_date(end, "window_end")
    if check_start:
        window_not_started(start)
    if end < start:
        raise ValidationFailed(_("The window must not end before it starts."), field="window_end")
    if end > one_year_after(start):
        raise ValidationFailed(_("The window may be at most a year long."), field="window_end")
    return start, end


def one_year_after(day: date) -> date:
    """The same day a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def require_org_type(actor: User, org_type: str) -> None:
    """The actor's organisation has the type (verified or not)."""
    if not actor.org.has_type(org_type):
        raise PermissionDenied(_("Only %(type)s organisations may do this.", type=_(org_type)))


def not_blacklisted(actor: User) -> None:
    """A generator blacklisted by a regulator posts no request while the sanction is in force."""
    sanction = blacklist_in_force(actor.org_id, today())
    if sanction is not None:
        raise PermissionDenied(_("A regulator has blacklisted your organisation until %(date)s: "
                                 "it cannot post disposal requests.",
                                 date=shown_date(sanction.valid_to)), code="org_blacklisted")


def require_verified(actor: User, org_type: str) -> None:
    """The actor's organisation has the type and is verified (suspended ones may not trade)."""
    require_org_type(actor, org_type)
    if actor.org.status == "suspended":
        raise suspended()
    if not actor.org.is_verified:
        raise PermissionDenied(_("Your organisation must be verified before it can trade."),
                               code="org_not_verified")
