from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, utcnow


class OutboxJob(Base):
    """A job requested by a use case, committed with it and pushed to rq after commit."""
    __tablename__ = "outbox_job"
    # Dispatch bookkeeping (marking a row pushed after commit), not a use case: the suspension
    # guard (market.acting) does not look at it; the use case's own rows are still guarded.
    __suspension_exempt__ = True

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    queue: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 default=utcnow, index=True)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ScheduledRun(Base):
    """One row per scheduled job and day: the primary key makes each daily run happen once."""
    __tablename__ = "scheduled_run"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 default=utcnow)
