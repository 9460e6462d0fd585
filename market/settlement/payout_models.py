"""Payout records: the bank account a payee keeps on file, payout batches and their lines.

A batch line is one organisation's payout in one batch. Bank lines carry a snapshot of the
account they were sent to and the line reference the bank quotes back on its statement (the
"payout batch id" rule of market.reconciliation.matching); Stripe lines point at the Connect
transfer (escrow Payout) that carries them. The money itself is in the ledger (DESIGN.md §6).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

ACCOUNT_STATUSES = ("unverified", "verified", "rejected", "returned")
LINE_STATUSES = ("sent", "paid", "returned")
LINE_GATEWAYS = ("bank", "stripe")


def mask_number(number: str) -> str:
    """An account number as pages show it: only the last four digits."""
    return "•••• " + number[-4:] if number else ""


class BankAccount(Timestamped, Base):
    """The bank account an organisation is paid to; a platform admin verifies it."""
    __tablename__ = "payee_bank_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    account_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="unverified")
    # Why an admin rejected it, or why the bank returned a payout to it.
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(sql_in("status", ACCOUNT_STATUSES), name="status"),
        CheckConstraint("(status = 'verified') = (verified_at IS NOT NULL)", name="verified"),
    )

    @property
    def masked(self) -> str:
        return mask_number(self.account_number)


class PayoutBatch(Timestamped, Base):
    """One payout run built by finance: its lines, and the bank file it wrote."""
    __tablename__ = "payout_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    minimum_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(100))
    file_csv: Mapped[str] = mapped_column(Text)
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list["PayoutBatchLine"]] = relationship(
        back_populates="batch", order_by="PayoutBatchLine.id")

    __table_args__ = (CheckConstraint("total_fen >= 0 AND line_count >= 0", name="totals"),)


class PayoutBatchLine(Timestamped, Base):
    """One organisation's payout in a batch: sent, then paid (statement) or returned."""
    __tablename__ = "payout_batch_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batch.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_payout.id"), unique=True)
    account_name: Mapped[str] = mapped_column(String(200), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    account_number: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(20), default="sent")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str | None] = mapped_column(Text)

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(sql_in("status", LINE_STATUSES), name="status"),
        CheckConstraint(sql_in("gateway", LINE_GATEWAYS), name="gateway"),
    )

    @property
    def masked(self) -> str:
        return mask_number(self.account_number)
