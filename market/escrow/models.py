"""Escrow records: what each payer owes, money received, movements in and out of escrow, payouts.

The ledger (market.ledger) holds the balances; these rows say why each entry was posted, so a
page can show "released 1 200.00 of the disposal line" without parsing memos. Each money-moving
row carries the unique idempotency key of its ledger entry.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

GATEWAYS = ("bank", "stripe")
FUNDING_STATUSES = ("open", "paid", "cancelled")
RECEIPT_STATUSES = ("funded", "partial", "excess", "unmatched")
MOVEMENT_KINDS = ("fund", "release", "refund", "suspense_return")
PAYOUT_METHODS = ("bank", "stripe_refund", "stripe_transfer")
PAYOUT_STATUSES = ("pending", "executed", "failed")



class FundingRequest(Timestamped, Base):
    """What one payer must pay into an order's escrow, and the bank reference that names it."""
    __tablename__ = "escrow_funding_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), index=True)
    payer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Order number (+ "O" when the operator pays) + ISO 7064 mod 97-10 check digits.
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("order_id", "payer_org_id", name="uq_escrow_funding_request_payer"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(sql_in("status", FUNDING_STATUSES), name="status"),
    )


class Payment(Timestamped, Base):
    """A card payment at the PSP (a Stripe PaymentIntent) for one funding request."""
    __tablename__ = "escrow_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    funding_request_id: Mapped[int] = mapped_column(ForeignKey("escrow_funding_request.id"),
                                                    index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    client_secret: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="created")
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    funding_request: Mapped[FundingRequest] = relationship()

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('created', 'succeeded', 'failed')", name="status"),
    )


class Receipt(Timestamped, Base):
    """Money that arrived at the custody bank or the PSP: applied to escrow, rest in suspense."""
    __tablename__ = "escrow_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100))  # as the payer wrote it
    funding_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("escrow_funding_request.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    payer_name: Mapped[str] = mapped_column(String(200))
    # The bank's (or PSP's) own id of the transfer: the same transfer is never booked twice.
    bank_ref: Mapped[str] = mapped_column(String(100))
    applied_fen: Mapped[int] = mapped_column(BigInteger)
    suspense_fen: Mapped[int] = mapped_column(BigInteger)
    # Suspense money since matched to an order or sent back; open = suspense − cleared.
    suspense_cleared_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    funding_request: Mapped[FundingRequest | None] = relationship()

    __table_args__ = (
        UniqueConstraint("gateway", "bank_ref", name="uq_escrow_receipt_bank_ref"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("applied_fen >= 0 AND suspense_fen >= 0 AND "
                        "applied_fen + suspense_fen = amount_fen", name="split"),
        CheckConstraint("suspense_cleared_fen BETWEEN 0 AND suspense_fen", name="cleared"),
        CheckConstraint(sql_in("status", RECEIPT_STATUSES), name="status"),
        Index("ix_escrow_receipt_open_suspense", "id",
              postgresql_where=text("suspense_cleared_fen < suspense_fen")),
    )

    @property
    def suspense_open_fen(self) -> int:
        return self.suspense_fen - self.suspense_cleared_fen


class Movement(Timestamped, Base):
    """Why one ledger entry moved money into or out of an order's escrow (or out of suspense).

    amount_fen is what left or entered escrow; for a release, value_fen is the part of the line's
    value released and fee_fen the platform's fee (inside the amount for a positive line, on top
    of the value for a negative one, so payee amount + fee == amount always).
    """
    __tablename__ = "escrow_movement"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("trade_order.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_receipt.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_dispute.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    memo: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(sql_in("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint("amount_fen > 0 AND value_fen >= 0 AND fee_fen >= 0", name="amounts"),
        CheckConstraint("kind <> 'release' OR line_id IS NOT NULL", name="release_has_line"),
        CheckConstraint("(kind = 'suspense_return') = (order_id IS NULL)", name="order_present"),
    )


class Payout(Timestamped, Base):
    """Money leaving the platform to an organisation: a bank transfer, a card refund, a transfer."""
    __tablename__ = "escrow_payout"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("trade_order.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_payment.id"))
    external_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(sql_in("method", PAYOUT_METHODS), name="method"),
        CheckConstraint(sql_in("status", PAYOUT_STATUSES), name="status"),
        CheckConstraint("method <> 'stripe_refund' OR payment_id IS NOT NULL",
                        name="refund_has_payment"),
    )


class PayoutAccount(Timestamped, Base):
    """Where an organisation is paid at a gateway, e.g. its Stripe Connect account (acct_…)."""
    __tablename__ = "escrow_payout_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    gateway: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("org_id", "gateway", name="uq_escrow_payout_account_org"),)


class WebhookEvent(Base):
    """A PSP event, stored once by its id before any processing (replays are no-ops)."""
    __tablename__ = "escrow_webhook_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=text("now()"))
    status: Mapped[str] = mapped_column(String(20), default="received")
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("status IN ('received', 'processed', 'ignored', 'alerted')",
                        name="status"),
    )
