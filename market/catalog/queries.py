"""Read side of the catalog."""
from __future__ import annotations

from sqlalchemy import or_, select

from market import db
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode


def categories() -> list[WasteCategory]:
    return list(db.session.scalars(select(WasteCategory).order_by(WasteCategory.code)))


def methods(national_only: bool = True) -> list[DisposalMethod]:
    q = select(DisposalMethod).order_by(DisposalMethod.group, DisposalMethod.code)
    if national_only:
        q = q.where(DisposalMethod.national.is_(True))
    return list(db.session.scalars(q))


def search_codes(q: str = "", limit: int = 50) -> list[WasteCode]:
    stmt = select(WasteCode).order_by(WasteCode.code).limit(limit)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(WasteCode.code.ilike(like), WasteCode.description.ilike(like),
                              WasteCode.category_code.ilike(like)))
    return list(db.session.scalars(stmt))


def regions(parent: str | None = None) -> list[Region]:
    stmt = select(Region).order_by(Region.code)
    stmt = stmt.where(Region.parent_code == parent) if parent else stmt.where(Region.level == 1)
    return list(db.session.scalars(stmt))


def region(code: str) -> Region | None:
    return db.session.get(Region, code)


def region_path(code: str) -> list[Region]:
    """The region and its ancestors, province first."""
    out = []
    r = db.session.get(Region, code)
    while r is not None:
        out.insert(0, r)
        r = db.session.get(Region, r.parent_code) if r.parent_code else None
    return out
