"""Sampling orders sent to accredited labs, their structured results and the result gate."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.db import Base, Timestamped, sql_in
from market.orders.models import Order
from market.sampling.state import FEE_STATUSES, LIVE, SAMPLING_STATUSES



class SamplingOrder(Timestamped, Base):
    """检测委托: one lab asked to test one order's waste; its fee is an order line to the lab."""
    __tablename__ = "sampling_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), index=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The CMA accreditation that was valid when the lab was chosen (and again when it accepted).
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_by_role: Mapped[str] = mapped_column(String(20))
    analytes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)

    fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    fee_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id", ondelete="SET NULL"))
    # due from acceptance; void when cancelled before the sample is taken; paid by escrow later.
    fee_status: Mapped[str | None] = mapped_column(String(10))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    collected_on: Mapped[date | None] = mapped_column(Date)
    sampler: Mapped[str | None] = mapped_column(String(100))
    custody_number: Mapped[str | None] = mapped_column(String(60))

    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report_file: Mapped[str | None] = mapped_column(String(80))
    report_sha256: Mapped[str | None] = mapped_column(String(64))

    # The result gate: the operator's price decision and, for a changed price, the generator's.
    quoted_price_fen_per_t: Mapped[int | None] = mapped_column(BigInteger)
    confirmed_price_fen_per_t: Mapped[int | None] = mapped_column(BigInteger)
    price_decision: Mapped[str | None] = mapped_column(String(20))
    price_decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    generator_response: Mapped[str | None] = mapped_column(String(20))
    generator_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    generator_reason: Mapped[str | None] = mapped_column(Text)

    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship()
    lab: Mapped[Organisation] = relationship(foreign_keys=[lab_id])
    results: Mapped[list["SamplingResult"]] = relationship(
        back_populates="sampling_order", order_by="SamplingResult.id", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(sql_in("status", SAMPLING_STATUSES), name="status"),
        CheckConstraint(f"fee_status IS NULL OR {sql_in('fee_status', FEE_STATUSES)}", name="fee_status"),
        CheckConstraint("fee_fen IS NULL OR fee_fen >= 0", name="fee_not_negative"),
        CheckConstraint("cardinality(analytes) > 0", name="analytes_present"),
        CheckConstraint("requested_by_role IN ('generator', 'operator')", name="requested_by_role"),
        CheckConstraint("price_decision IS NULL OR price_decision IN "
                        "('confirmed', 'changed', 'declined')", name="price_decision"),
        CheckConstraint("generator_response IS NULL OR generator_response IN "
                        "('accepted', 'rejected')", name="generator_response"),
        # A reported sampling order has its signed report (the gate reads both).
        CheckConstraint("status NOT IN ('reported', 'closed') OR report_file IS NOT NULL",
                        name="reported_has_report"),
        # One live sampling order per trade order, whatever the races.
        Index("uq_sampling_order_live_per_order", "order_id", unique=True,
              postgresql_where=text(sql_in("status", LIVE))),
    )


class SamplingResult(Base):
    """One measured value: analyte, value, unit and the method standard (GB/T, HJ …)."""
    __tablename__ = "sampling_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    sampling_order_id: Mapped[int] = mapped_column(
        ForeignKey("sampling_order.id", ondelete="CASCADE"), index=True)
    analyte: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    unit: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(100))

    sampling_order: Mapped[SamplingOrder] = relationship(back_populates="results")

    __table_args__ = (
        UniqueConstraint("sampling_order_id", "analyte", name="uq_sampling_result_order_analyte"),
    )
