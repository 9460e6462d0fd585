from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
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
