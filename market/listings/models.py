"""Disposal requests, storefront offers, service areas, quotes and capacity reservations."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index,
                        Integer, Numeric, SmallInteger, String, Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.db import Base, Timestamped, sql_in

FORMS = ("solid", "sludge", "liquid", "gas_in_container")
METHOD_GROUPS = ("R", "D10", "D1", "D9", "C1", "other")
RECURRING = ("none", "weekly", "monthly")
REQUEST_STATUSES = ("draft", "open", "awarded", "cancelled", "expired")
QUOTE_STATUSES = ("submitted", "withdrawn", "rejected", "expired", "accepted")
HAZARDS = ("T", "C", "I", "R", "In")  # toxicity, corrosivity, ignitability, reactivity, infectivity



class DisposalRequest(Timestamped, Base):
    """需求: what a generator must get rid of, where and when."""
    __tablename__ = "disposal_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    generator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    waste_code: Mapped[str | None] = mapped_column(ForeignKey("waste_code.code"))
    description: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[str] = mapped_column(String(20))
    packaging: Mapped[str] = mapped_column(String(100), default="")
    hazards: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    # Set from SMALL_LOT_KG when the quantity is written, so lists can filter on it.
    small_lot: Mapped[bool] = mapped_column(Boolean, default=False)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    method_group: Mapped[str | None] = mapped_column(String(5))
    requires_sampling: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    recurring: Mapped[str] = mapped_column(String(10), default="none")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    operators_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    generator: Mapped[Organisation] = relationship(foreign_keys=[generator_id])
    quotes: Mapped[list["Quote"]] = relationship(back_populates="request", order_by="Quote.id")

    __table_args__ = (
        CheckConstraint("quantity_kg > 0", name="quantity_positive"),
        CheckConstraint("window_end >= window_start", name="window_order"),
        CheckConstraint(sql_in("form", FORMS), name="form"),
        CheckConstraint(sql_in("recurring", RECURRING), name="recurring"),
        CheckConstraint(sql_in("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(f"method_group IS NULL OR {sql_in('method_group', METHOD_GROUPS)}",
                        name="method_group"),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates"),
        Index("ix_disposal_request_status_category", "status", "category_code"),
    )

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return float(self.latitude), float(self.longitude)


class ServiceArea(Base):
    """A region prefix an operator collects from; none at all means its own province."""
    __tablename__ = "service_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    region_prefix: Mapped[str] = mapped_column(String(6))

    __table_args__ = (
        UniqueConstraint("org_id", "region_prefix", name="uq_service_area_org_prefix"),
        CheckConstraint("region_prefix ~ '^[0-9]{2}([0-9]{2}){0,2}$'", name="prefix_format"),
    )


class AlertPreference(Base):
    """Which new requests an operator wants to hear about; an empty list means all."""
    __tablename__ = "alert_preference"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(4)), default=list)
    region_prefixes: Mapped[list[str]] = mapped_column(ARRAY(String(6)), default=list)


class StorefrontOffer(Timestamped, Base):
    """An operator's standing price (Tmall style); negative prices mean the operator pays."""
    __tablename__ = "storefront_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    waste_code: Mapped[str | None] = mapped_column(ForeignKey("waste_code.code"))
    method_code: Mapped[str] = mapped_column(ForeignKey("disposal_method.code"))
    service_region_prefixes: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    min_kg: Mapped[int] = mapped_column(BigInteger)
    max_kg: Mapped[int] = mapped_column(BigInteger)
    unit_price_fen_per_t: Mapped[int] = mapped_column(BigInteger)
    transport_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    operator: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("min_kg > 0", name="min_positive"),
        CheckConstraint("max_kg >= min_kg", name="max_not_below_min"),
        CheckConstraint("transport_fee_fen >= 0", name="transport_not_negative"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("cardinality(service_region_prefixes) > 0", name="regions_present"),
        Index("ix_storefront_offer_category_active", "category_code", "operator_id",
              postgresql_where=text("active")),
    )


class Quote(Timestamped, Base):
    """An operator's price for one request, backed by the licence item it would use."""
    __tablename__ = "quote"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    licence_item_id: Mapped[int] = mapped_column(ForeignKey("licence_item.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    unit_price_fen_per_t: Mapped[int] = mapped_column(BigInteger)
    transport_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_until: Mapped[date] = mapped_column(Date)
    subject_to_sampling: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[DisposalRequest] = relationship(back_populates="quotes")
    operator: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("transport_fee_fen >= 0", name="transport_not_negative"),
        CheckConstraint(sql_in("status", QUOTE_STATUSES), name="status"),
        # One live quote per operator and request; one accepted quote per request.
        Index("uq_quote_live_per_operator", "request_id", "operator_id", unique=True,
              postgresql_where=text("status = 'submitted'")),
        Index("uq_quote_accepted_per_request", "request_id", unique=True,
              postgresql_where=text("status = 'accepted'")),
    )


class CapacityReservation(Timestamped, Base):
    """Kilograms of a licence item's annual approval held for one order until released."""
    __tablename__ = "capacity_reservation"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    licence_item_id: Mapped[int] = mapped_column(ForeignKey("licence_item.id"))
    year: Mapped[int] = mapped_column(SmallInteger)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), unique=True)
    kg: Mapped[int] = mapped_column(BigInteger)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("kg > 0", name="kg_positive"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        # The remaining-capacity aggregate reads only this index (GROUP BY item, year).
        Index("ix_capacity_reservation_active", "licence_item_id", "year",
              postgresql_where=text("released_at IS NULL"), postgresql_include=["kg"]),
    )


class ImportBatch(Timestamped, Base):
    """One bulk upload of requests (market/listings/bulk.py): its batch id, chosen by the client,
    makes sending the same file again create nothing twice."""
    __tablename__ = "import_batch"
    __table_args__ = (UniqueConstraint("org_id", "batch_id", name="uq_import_batch_org_batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    batch_id: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[int] = mapped_column(Integer)
    created: Mapped[list] = mapped_column(JSONB, default=list)   # [{line, id, number}]
    errors: Mapped[list] = mapped_column(JSONB, default=list)    # [{line, field, message}]
