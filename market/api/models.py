from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped


class IdempotencyRecord(Timestamped, Base):
    """The first response to a write sent with an Idempotency-Key, replayed for repeats."""
    __tablename__ = "idempotency_record"
    # Bookkeeping of the request, not a use case: the suspension guard (market.acting) looks only
    # at the use case's own rows, so a refused or an allowed write is remembered like any other.
    __suspension_exempt__ = True
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_record_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSONB)


class RowChange(Base):
    """The last change of one row of a listed table, written by triggers in the writer's
    transaction (migration 0013): `seq` numbers changes in commit order, for the change feeds of
    market/api/changes.py; `xid` is the writing transaction's id."""
    __tablename__ = "row_change"
    __table_args__ = (Index("ix_row_change_feed", "tbl", "seq", "row_id"),)

    tbl: Mapped[str] = mapped_column(String(63), primary_key=True)
    row_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
