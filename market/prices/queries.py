"""The read side of the price index: releases, cells, the price-check lookup, index series.

Other contexts (the regulator dashboard in market/oversight) call these; they never write.

- latest_publication(month=None) → the newest version of the newest (or given) month's release
- publication_versions(month) → every version of a month, oldest first
- latest_cells(*, category=None, method=None, region=None, period=None, publication=None)
  → the cells of a release's reference month (or `period`), filtered
- lookup_cell(category, method_group, province, publication=None) → the price-check cell:
  category × method × province, else category × province (all methods), else national
- index_series(node="*/*/*", formula="laspeyres", publication=None) → [(period, level|None)]
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from market import db
from market.prices.models import PriceCell, PricePublication

ALL = "*"


def latest_publication(month: date | None = None) -> PricePublication | None:
    stmt = select(PricePublication)
    if month is not None:
        stmt = stmt.where(PricePublication.reference_month == month)
    return db.session.scalar(stmt.order_by(PricePublication.reference_month.desc(),
                                           PricePublication.version.desc()).limit(1))


def publication(month: date, version: int) -> PricePublication | None:
    return db.session.scalar(select(PricePublication).where(
        PricePublication.reference_month == month, PricePublication.version == version))


def publication_versions(month: date) -> list[PricePublication]:
    return list(db.session.scalars(select(PricePublication).where(
        PricePublication.reference_month == month).order_by(PricePublication.version)))


def releases(limit: int = 24) -> list[PricePublication]:
    """Every stored version, newest first."""
    return list(db.session.scalars(select(PricePublication).order_by(
        PricePublication.reference_month.desc(), PricePublication.version.desc()).limit(limit)))


def latest_cells(*, category: str | None = None, method: str | None = None,
                 region: str | None = None, period: str | None = None,
                 publication: PricePublication | None = None) -> list[PriceCell]:
    """Cells of a release (the latest by default) for its reference month unless `period` says
    otherwise; None leaves a dimension open, "*" asks for the roll-up."""
    pub = publication or latest_publication()
    if pub is None:
        return []
    stmt = select(PriceCell).where(PriceCell.publication_id == pub.id,
                                   PriceCell.period == (period or f"{pub.reference_month:%Y-%m}"))
    for column, value in ((PriceCell.category, category), (PriceCell.method, method),
                          (PriceCell.region, region)):
        if value is not None:
            stmt = stmt.where(column == value)
    return list(db.session.scalars(stmt.order_by(PriceCell.category, PriceCell.method,
                                                 PriceCell.region)))


def cell_history(category: str, method: str = ALL, region: str = ALL,
                 publication: PricePublication | None = None) -> list[PriceCell]:
    """One cell's months (not quarters) in a release, oldest first: the trend."""
    pub = publication or latest_publication()
    if pub is None:
        return []
    return list(db.session.scalars(select(PriceCell).where(
        PriceCell.publication_id == pub.id, PriceCell.category == category,
        PriceCell.method == method, PriceCell.region == region,
        PriceCell.period.notlike("%Q%")).order_by(PriceCell.period)))


@dataclass(frozen=True)
class CellLookup:
    cell: PriceCell
    level: str            # "cell", "province" or "national": how far the lookup fell back
    floor_key: str        # the key of the cell's 12-month p5 in the publication's floors


def lookup_cell(category: str, method_group: str | None, province: str,
                publication: PricePublication | None = None) -> CellLookup | None:
    """The latest published month of category × method × province, else of the category in the
    province (all methods), else national (the method, then all methods)."""
    pub = publication or latest_publication()
    if pub is None:
        return None
    chain = []
    if method_group:
        chain.append(("cell", method_group, province))
    chain.append(("province", ALL, province))
    if method_group:
        chain.append(("national", method_group, ALL))
    chain.append(("national", ALL, ALL))
    for level, method, region in chain:
        cell = db.session.scalar(select(PriceCell).where(
            PriceCell.publication_id == pub.id, PriceCell.category == category,
            PriceCell.method == method, PriceCell.region == region,
            PriceCell.status == "published", PriceCell.period.notlike("%Q%"))
            .order_by(PriceCell.period.desc()).limit(1))
        if cell is not None:
            return CellLookup(cell, level, f"{category}/{method}/{region}")
    return None


def index_series(node: str = "*/*/*", formula: str = "laspeyres",
                 publication: PricePublication | None = None) -> list[tuple[str, Decimal | None]]:
    pub = publication or latest_publication()
    if pub is None:
        return []
    series = (pub.index_series.get(formula) or {}).get(node)
    if not series:
        return []
    return [(p[0], None if p[1] is None else Decimal(p[1])) for p in series["points"]]


def index_nodes(publication: PricePublication | None = None) -> list[str]:
    pub = publication or latest_publication()
    return sorted((pub.index_series.get("laspeyres") or {}).keys()) if pub else []
