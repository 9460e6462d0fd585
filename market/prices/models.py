"""Stored publications of the price index, their cells, the runs that build them and the
government tariffs of categories whose price is not a market quote (DESIGN.md §7).

A publication is never updated: a correction or the final release of a month is a new version,
and every version stays readable.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index,
                        Integer, String, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

RELEASES = ("preliminary", "final")
CELL_STATUSES = ("published", "primary", "secondary")
RUN_STATUSES = ("queued", "running", "done", "failed")


class PricePublication(Timestamped, Base):
    """One version of the index for a reference month (all settled history up to that month)."""
    __tablename__ = "price_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference_month: Mapped[date] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer)
    release: Mapped[str] = mapped_column(String(20))
    # A revision: a new version whose numbers differ from the one before it ("r" on the page).
    revised: Mapped[bool] = mapped_column(Boolean, default=False)
    methodology_version: Mapped[str] = mapped_column(String(20))
    params_hash: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    quality: Mapped[dict] = mapped_column(JSONB, default=dict)
    index_series: Mapped[dict] = mapped_column(JSONB, default=dict)
    # Alert floors per base cell and roll-up ("HW49/D10/44" → 12-month p5 fen/t): confidential.
    floors: Mapped[dict] = mapped_column(JSONB, default=dict)
    # Robust-z outliers, listed for regulators only.
    outliers: Mapped[list] = mapped_column(JSONB, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    cells: Mapped[list["PriceCell"]] = relationship(back_populates="publication",
                                                    order_by="PriceCell.id",
                                                    cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("reference_month", "version", name="uq_price_publication_month_version"),
        CheckConstraint(sql_in("release", RELEASES), name="release"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("NOT revised OR version > 1", name="revision_follows"),
    )

    @property
    def label(self) -> str:
        """"2025-03 v2r": month, version and the revision flag."""
        return f"{self.reference_month:%Y-%m} v{self.version}{'r' if self.revised else ''}"


class PriceCell(Base):
    """A cell of a publication. Suppressed cells keep no numbers, only where to look instead."""
    __tablename__ = "price_cell"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("price_publication.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))      # "2025-03" or "2025-Q1"
    category: Mapped[str] = mapped_column(String(4))
    method: Mapped[str] = mapped_column(String(5))      # a method group, or "*"
    region: Mapped[str] = mapped_column(String(2))      # a province, or "*" (national)
    status: Mapped[str] = mapped_column(String(20))
    trades: Mapped[int | None] = mapped_column(Integer)
    kg: Mapped[int | None] = mapped_column(BigInteger)
    vwap: Mapped[int | None] = mapped_column(BigInteger)
    median: Mapped[int | None] = mapped_column(BigInteger)
    p10: Mapped[int | None] = mapped_column(BigInteger)
    p25: Mapped[int | None] = mapped_column(BigInteger)
    p75: Mapped[int | None] = mapped_column(BigInteger)
    p90: Mapped[int | None] = mapped_column(BigInteger)
    nearest_published: Mapped[str | None] = mapped_column(String(30))

    publication: Mapped[PricePublication] = relationship(back_populates="cells")

    __table_args__ = (
        CheckConstraint(sql_in("status", CELL_STATUSES), name="status"),
        CheckConstraint("(status = 'published') = (vwap IS NOT NULL)", name="numbers_when_published"),
        Index("ix_price_cell_lookup", "publication_id", "category", "method", "region", "period"),
    )

    @property
    def published(self) -> bool:
        return self.status == "published"


class PublicationRun(Timestamped, Base):
    """A requested build of a publication, its progress polled by the admin page."""
    __tablename__ = "price_publication_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference_month: Mapped[date] = mapped_column(Date)
    release: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("price_publication.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(sql_in("status", RUN_STATUSES), name="status"),
        CheckConstraint(sql_in("release", RELEASES), name="release"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )


class GovernmentTariff(Timestamped, Base):
    """The regional tariff of a government-priced category (e.g. HW01 medical waste)."""
    __tablename__ = "government_tariff"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    region_prefix: Mapped[str] = mapped_column(String(6))
    unit_price_fen_per_t: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), default="")

    __table_args__ = (
        UniqueConstraint("category_code", "region_prefix", "valid_from",
                         name="uq_government_tariff_cell"),
        CheckConstraint("length(region_prefix) IN (2, 4, 6)", name="region_prefix"),
    )
