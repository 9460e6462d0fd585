"""Reconciliation records: imported statement files and their lines, matches, exceptions, days.

Lines are the bank's (or PSP's) word and never change; a match or a resolution points at the
ledger entry it ties the line to; a day once signed off changes only by later adjustment entries.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, String, Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped, sql_in

EXCEPTION_KINDS = ("unmatched_line", "unmatched_entry", "amount_mismatch", "overpayment",
                   "balance_difference")
EXCEPTION_STATUSES = ("open", "resolved")
RESOLUTIONS = ("manual_match", "adjustment", "suspense_refund")
MATCH_KINDS = ("matched", "payout_return")


class StatementImport(Timestamped, Base):
    """One imported file: its hash (a file is imported once), balances and what was skipped."""
    __tablename__ = "recon_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    file_hash: Mapped[str] = mapped_column(String(64), unique=True)
    opening_fen: Mapped[int | None] = mapped_column(BigInteger)
    closing_fen: Mapped[int | None] = mapped_column(BigInteger)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    line_count: Mapped[int] = mapped_column(Integer)
    statements: Mapped[list] = mapped_column(JSONB, default=list)
    skipped: Mapped[list] = mapped_column(JSONB, default=list)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class StatementLine(Base):
    """One movement as the statement states it (+ in, − out), in fen."""
    __tablename__ = "recon_line"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("recon_import.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(20))
    position: Mapped[str] = mapped_column(String(100))
    booking_date: Mapped[date] = mapped_column(Date, index=True)
    value_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    counterparty_name: Mapped[str] = mapped_column(String(200), default="")
    counterparty_account: Mapped[str] = mapped_column(String(60), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    bank_txn_id: Mapped[str] = mapped_column(String(100))
    balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    # "person" or "organisation" when the statement says (camt Id/PrvtId, Id/OrgId), else ""
    party_kind: Mapped[str] = mapped_column(String(20), default="", server_default="")

    __table_args__ = (
        UniqueConstraint("gateway", "bank_txn_id", name="uq_recon_line_txn"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
    )


class Match(Timestamped, Base):
    """A statement line tied to a ledger entry, and the rule (or the person) that tied them."""
    __tablename__ = "recon_match"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="matched")
    line_id: Mapped[int] = mapped_column(ForeignKey("recon_line.id"), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        CheckConstraint(sql_in("kind", MATCH_KINDS), name="kind"),
        # An entry is matched to one line; a returned payout's entry also to its return line.
        Index("uq_recon_match_entry", "entry_id", "kind", unique=True),
    )


class ReconException(Timestamped, Base):
    """Something the statement and the ledger disagree on, until finance resolves it."""
    __tablename__ = "recon_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(60))    # line:7, entry:9, day:2026-01-31
    day: Mapped[date] = mapped_column(Date, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("recon_line.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_receipt.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolution_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("gateway", "kind", "subject", name="uq_recon_exception_subject"),
        CheckConstraint(sql_in("kind", EXCEPTION_KINDS), name="kind"),
        CheckConstraint(sql_in("status", EXCEPTION_STATUSES), name="status"),
        CheckConstraint(f"resolution IS NULL OR {sql_in('resolution', RESOLUTIONS)}",
                        name="resolution"),
        CheckConstraint("(status = 'resolved') = (resolution IS NOT NULL)", name="resolved"),
        Index("ix_recon_exception_open", "gateway", "day",
              postgresql_where=text("status = 'open'")),
    )


class Day(Timestamped, Base):
    """Close of one day at one gateway: ledger clearing vs statement closing balance, sign-off."""
    __tablename__ = "recon_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    ledger_fen: Mapped[int] = mapped_column(BigInteger)
    statement_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="open")
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("gateway", "day", name="uq_recon_day"),
        CheckConstraint("status IN ('open', 'balanced', 'different', 'waiting', 'signed_off')",
                        name="status"),
        CheckConstraint("(status = 'signed_off') = (signed_off_at IS NOT NULL)",
                        name="signed_off"),
    )


UPLOAD_PHASES = ("queued", "parsing", "storing", "matching", "done", "failed")


class StatementUpload(Timestamped, Base):
    """A large statement file imported by a job, and how far the job has got (the page polls it).

    The file is kept until the job has finished with it; a refusal is kept as its msgid and
    parameters (or as the message the requester saw) so the page says it in the reader's language.
    """
    __tablename__ = "recon_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(20), default="queued")
    lines_total: Mapped[int] = mapped_column(Integer, default=0)     # newlines until parsed
    lines_parsed: Mapped[int] = mapped_column(Integer, default=0)
    lines_matched: Mapped[int] = mapped_column(Integer, default=0)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict | None] = mapped_column(JSONB)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("recon_import.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(sql_in("phase", UPLOAD_PHASES), name="phase"),
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent"),
    )
