"""Webhook endpoints, the events they subscribe to, and each delivery with its attempts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer,
                        String, Text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

EVENT_TYPES = ("quote.submitted", "order.status_changed", "contract.signed", "funding.confirmed",
               "manifest.status_changed", "settlement.completed", "payout.status_changed",
               "alert.raised")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(Timestamped, Base):
    """A URL an organisation's admin registered for some event types; the secret signs bodies."""
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSONB, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The first failure of the current run of failures; cleared by any success.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class OutboundEvent(Timestamped, Base):
    """Something that happened to an object, with the object as the API showed it then."""
    __tablename__ = "webhook_event"
    __table_args__ = (CheckConstraint(sql_in("type", EVENT_TYPES), name="type"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSONB, default=dict)


class WebhookDelivery(Timestamped, Base):
    """One event to one endpoint. Deliveries of one object to one endpoint go out in id order."""
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(sql_in("status", DELIVERY_STATUSES), name="status"),
        Index("ix_webhook_delivery_sequence", "endpoint_id", "object_key", "id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_event.id"), index=True)
    object_key: Mapped[str] = mapped_column(String(130))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replay_of: Mapped[int | None] = mapped_column(ForeignKey("webhook_delivery.id"))

    event: Mapped[OutboundEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: the log an endpoint's owner reads."""
    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
