"""Read side of the API lists: the catalog and the organisation directory, page by page."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import Organisation
from market.api.pagination import Key, Page, PageRequest, paginate
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode
from market.errors import NotFound

CATEGORY_KEYS = (Key(WasteCategory.code, str, "code"),)
CODE_KEYS = (Key(WasteCode.code, str, "code"),)
METHOD_KEYS = (Key(DisposalMethod.group, str, "group"), Key(DisposalMethod.code, str, "code"))
REGION_KEYS = (Key(Region.code, str, "code"),)
ORGANISATION_KEYS = (Key(Organisation.id, int, "id"),)


def categories(page: PageRequest) -> Page:
    """The HW categories, by code."""
    return paginate(select(WasteCategory), CATEGORY_KEYS, page)


def codes(q: str | None, page: PageRequest) -> Page:
    """Waste codes whose code, category or description contains q (any case), by code."""
    stmt = select(WasteCode)
    if q:
        stmt = stmt.where(WasteCode.code.icontains(q, autoescape=True)
                          | WasteCode.category_code.icontains(q, autoescape=True)
                          | WasteCode.description.icontains(q, autoescape=True))
    return paginate(stmt, CODE_KEYS, page)


def methods(page: PageRequest) -> Page:
    """The national utilisation/disposal method codes, by group then code."""
    return paginate(select(DisposalMethod).where(DisposalMethod.national.is_(True)), METHOD_KEYS, page)


def regions(parent: str | None, page: PageRequest) -> Page:
    """The children of a region, or the provinces without one; NotFound for an unknown parent."""
    if parent is None:
        return paginate(select(Region).where(Region.level == 1), REGION_KEYS, page)
    if db.session.get(Region, parent) is None:
        raise NotFound(_("Region %(code)s is not in the region table.", code=parent), field="parent")
    return paginate(select(Region).where(Region.parent_code == parent), REGION_KEYS, page)


def directory(org_type: str | None, region_prefix: str | None, page: PageRequest) -> Page:
    """Verified enterprise organisations, optionally of one type and within a region prefix."""
    # Pending, rejected and suspended organisations, regulators and the platform are not listed.
    stmt = select(Organisation).where(Organisation.kind == "enterprise",
                                      Organisation.status == "verified")
    if org_type:
        stmt = stmt.where(Organisation.types.contains([org_type]))
    if region_prefix:
        stmt = stmt.where(Organisation.region_code.startswith(region_prefix, autoescape=True))
    return paginate(stmt, ORGANISATION_KEYS, page)
