"""Settlement records: what each order settled at, per line, and its disposal certificate.

The ledger and escrow movements hold the money; these rows say what the settlement decided (the
accepted kilograms, each line's settled value, fee and retention, the refund or the top-up asked
for), so pages, the API and the independent check read it without re-deriving it. One row per
order (UNIQUE): a settlement run twice finds the first.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

SETTLEMENT_STATUSES = ("topup_due", "settled")


class Settlement(Timestamped, Base):
    """An order's settlement: asked for a top-up, or settled (lines released, the rest refunded)."""
    __tablename__ = "settlement"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    accepted_kg: Mapped[int] = mapped_column(BigInteger)
    # The disposal line at the accepted kg, signed as the order line (negative: the operator pays).
    disposal_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    topup_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    retained_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retention_released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The disposal certificate (处置证明) the operator uploaded, stored like licence scans.
    certificate_file: Mapped[str | None] = mapped_column(String(80))
    certificate_mime: Mapped[str | None] = mapped_column(String(40))
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    certificate_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    certificate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["SettlementLine"]] = relationship(
        back_populates="settlement", order_by="SettlementLine.line_id",
        cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(sql_in("status", SETTLEMENT_STATUSES), name="status"),
        CheckConstraint("accepted_kg >= 0", name="accepted_not_negative"),
        CheckConstraint("fee_fen >= 0 AND refunded_fen >= 0 AND topup_fen >= 0 "
                        "AND retained_fen >= 0", name="amounts"),
        CheckConstraint("status <> 'settled' OR (settled_at IS NOT NULL AND topup_fen = 0)",
                        name="settled"),
        CheckConstraint("(certificate_file IS NULL) = (certificate_at IS NULL)",
                        name="certificate"),
    )


class SettlementLine(Base):
    """One order line at settlement: its value, fee and retained part, and who pays and is paid."""
    __tablename__ = "settlement_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlement.id", ondelete="CASCADE"),
                                               index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    payer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    payee_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    retained_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    settlement: Mapped[Settlement] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("value_fen >= 0 AND fee_fen >= 0 AND retained_fen BETWEEN 0 AND value_fen",
                        name="amounts"),
    )
