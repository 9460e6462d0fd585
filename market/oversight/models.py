"""Stored alerts of the 三流合一 rules (DESIGN.md §8): one per rule and subject, with the records
it joins and the regions a regulator's scope is matched against."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint,
                        text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped, sql_in

SEVERITIES = ("info", "warning", "critical")
ALERT_STATUSES = ("open", "acknowledged", "closed")


class Alert(Timestamped, Base):
    """A rule broken by some records: open → acknowledged → closed (with a note)."""
    __tablename__ = "oversight_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), index=True)
    # What the rule fired about, e.g. "manifest:12:line:3": the same subject raises it once.
    subject: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("trade_order.id"), index=True)
    manifest_id: Mapped[int | None] = mapped_column(ForeignKey("manifest.id"), index=True)
    generator_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    operator_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    carrier_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    # For the regulator scope rule: generator's, pickup and operator's region codes.
    generator_region: Mapped[str | None] = mapped_column(String(6))
    pickup_region: Mapped[str | None] = mapped_column(String(6))
    operator_region: Mapped[str | None] = mapped_column(String(6))
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("rule_id", "subject", name="uq_oversight_alert_rule_subject"),
        CheckConstraint(sql_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(sql_in("status", ALERT_STATUSES), name="status"),
        Index("ix_oversight_alert_open", "created_at", postgresql_where=text("status = 'open'")),
    )
