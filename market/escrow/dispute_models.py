"""Disputes over funded orders, their evidence, and proposals to cancel a funded order."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.db import Base, Timestamped
from market.orders.models import Order


class Dispute(Timestamped, Base):
    """A party's dispute: money stays in escrow until an admin decides how to split it."""
    __tablename__ = "escrow_dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), index=True)
    opened_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    opened_by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    held_fen: Mapped[int | None] = mapped_column(BigInteger)  # escrow at resolution, on record
    split: Mapped[dict | None] = mapped_column(JSONB)  # {org_id: fen}
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    order: Mapped[Order] = relationship()
    opened_by_org: Mapped[Organisation] = relationship()
    evidence: Mapped[list["DisputeEvidence"]] = relationship(
        back_populates="dispute", order_by="DisputeEvidence.id")

    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        # One open dispute per order at a time.
        Index("uq_escrow_dispute_open", "order_id", unique=True,
              postgresql_where=text("status = 'open'")),
    )


class DisputeEvidence(Timestamped, Base):
    """A file a party attached to a dispute (stored like licence scans, typed by content)."""
    __tablename__ = "escrow_dispute_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("escrow_dispute.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))
    mime: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    dispute: Mapped[Dispute] = relationship(back_populates="evidence")


class CancellationProposal(Timestamped, Base):
    """One party proposes to cancel a funded order; the other's agreement refunds it in full."""
    __tablename__ = "escrow_cancellation"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), index=True)
    proposed_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    proposed_by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('open', 'agreed', 'withdrawn')", name="status"),
        Index("uq_escrow_cancellation_open", "order_id", unique=True,
              postgresql_where=text("status = 'open'")),
    )
