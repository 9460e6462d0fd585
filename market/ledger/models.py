"""Ledger tables: accounts, entries and postings (append-only; triggers in 0002_ledger)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, String, Text,
                        text)
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped

KIND_LIST = "'clearing','expense','escrow','payable','suspense','revenue'"
GUARDED_KIND_LIST = "'escrow','payable','suspense'"
# Coarser than codes.CODE_PATTERNS (which post() applies): enough to keep kind and code in step.
CODE_CHECK = "split_part(code, ':', 1) = kind AND code ~ '^[a-z]+[:][A-Za-z0-9_-]+$'"


class Account(Timestamped, Base):
    """A ledger account named by code ('escrow:HX2026000123'); its kind is the code's prefix."""
    __tablename__ = "ledger_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    may_go_negative: Mapped[bool] = mapped_column(Boolean)
    # Natural-signed balance cached by the posting trigger, kept only for accounts that may not go
    # negative (NULL for the others, so posting to hot accounts such as revenue:fees takes no row
    # lock). It is what the overdraft checks read under the row lock; reports sum the postings.
    # Never read it from a loaded object (the trigger changes it behind the ORM): use balance().
    cached_balance_fen: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint(f"kind IN ({KIND_LIST})", name="kind"),
        CheckConstraint(CODE_CHECK, name="code_matches_kind"),
        CheckConstraint(f"may_go_negative = (kind NOT IN ({GUARDED_KIND_LIST}))",
                        name="may_go_negative_by_kind"),
        CheckConstraint("may_go_negative = (cached_balance_fen IS NULL)", name="cached_balance"),
    )

    def __repr__(self) -> str:
        return f"<Account {self.code}>"


class Entry(Base):
    """One balanced journal entry; written once by ledger.post(), never changed."""
    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str] = mapped_column(Text, default="")
    # clock_timestamp(), not now(): entries of one transaction still get distinct, ordered times.
    posted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()"), index=True)
    # The writing transaction: postings may only be added to an entry inside that transaction.
    created_txid: Mapped[int] = mapped_column(BigInteger, server_default=text("txid_current()"))
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entry.id"), unique=True)

    def __repr__(self) -> str:
        return f"<Entry {self.id} {self.idempotency_key!r}>"


class Posting(Base):
    """One leg of an entry: signed fen on one account (debit +, credit −, never zero)."""
    __tablename__ = "ledger_posting"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)

    def __repr__(self) -> str:
        return f"<Posting entry={self.entry_id} account={self.account_id} {self.amount_fen}>"
