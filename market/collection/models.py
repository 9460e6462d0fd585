"""Collection rounds (a collector's route on a day), their categories, bookings and trips."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Integer, String,
                        Text, Time, UniqueConstraint)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.collection.state import BOOKING_STATUSES, REPEATS, ROUND_STATUSES
from market.db import Base, Timestamped, sql_in


class CollectionRound(Timestamped, Base):
    """收集班次: an operator licensed for collection picks up small lots along a route on a day."""
    __tablename__ = "collection_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # The first round of a repeating publication; every repeat points at it (itself included).
    series_id: Mapped[int | None] = mapped_column(Integer, index=True)
    repeat: Mapped[str] = mapped_column(String(10), default="none")
    region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    day: Mapped[date] = mapped_column(Date, index=True)
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    price_fen_per_kg: Mapped[int] = mapped_column(BigInteger)
    minimum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    vehicle_capacity_kg: Mapped[int] = mapped_column(BigInteger)
    booking_closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)

    operator: Mapped[Organisation] = relationship(foreign_keys=[operator_id])
    items: Mapped[list["RoundItem"]] = relationship(back_populates="round",
                                                    order_by="RoundItem.id",
                                                    cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(sql_in("status", ROUND_STATUSES), name="status"),
        CheckConstraint(sql_in("repeat", REPEATS), name="repeat"),
        CheckConstraint("vehicle_capacity_kg > 0", name="capacity_positive"),
        CheckConstraint("minimum_fen >= 0", name="minimum_not_negative"),
        CheckConstraint("price_fen_per_kg >= 0 OR minimum_fen = 0", name="no_minimum_when_paid"),
        CheckConstraint("window_start < window_end", name="window"),
        CheckConstraint("cardinality(region_codes) > 0", name="regions"),
    )

    @property
    def categories(self) -> list[str]:
        return [it.category_code for it in self.items]

    def item_for(self, category: str) -> "RoundItem | None":
        return next((it for it in self.items if it.category_code == category), None)


class RoundItem(Base):
    """A category a round collects, under the licence item that allows its collection."""
    __tablename__ = "collection_round_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id", ondelete="CASCADE"),
                                          index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    licence_item_id: Mapped[int] = mapped_column(ForeignKey("licence_item.id"))

    round: Mapped[CollectionRound] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("round_id", "category_code", name="one_per_category"),)


class Booking(Timestamped, Base):
    """A small generator's place on a round; its money and weights live on its order."""
    __tablename__ = "collection_booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"), index=True)
    generator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    waste_code: Mapped[str | None] = mapped_column(ForeignKey("waste_code.code"))
    estimated_kg: Mapped[int] = mapped_column(BigInteger)
    containers: Mapped[int] = mapped_column(Integer, default=1)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    weighed_kg: Mapped[int | None] = mapped_column(BigInteger)
    received_kg: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    round: Mapped[CollectionRound] = relationship()
    generator: Mapped[Organisation] = relationship(foreign_keys=[generator_id])

    __table_args__ = (
        CheckConstraint(sql_in("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("estimated_kg > 0", name="estimate_positive"),
        CheckConstraint("containers > 0", name="containers_positive"),
        CheckConstraint("weighed_kg IS NULL OR weighed_kg > 0", name="weighed_positive"),
        CheckConstraint("received_kg IS NULL OR received_kg >= 0", name="received_not_negative"),
    )


class Trip(Timestamped, Base):
    """The one vehicle trip of a started round; each booking's manifest points at it (trip_id)."""
    __tablename__ = "collection_trip"

    id: Mapped[int] = mapped_column(primary_key=True)
    # UNIQUE: a round starts once, whatever the races.
    round_id: Mapped[int] = mapped_column(ForeignKey("collection_round.id"), unique=True)
    carrier_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    vehicle_plate: Mapped[str] = mapped_column(String(10))
    driver_name: Mapped[str] = mapped_column(String(50))
    driver_phone: Mapped[str] = mapped_column(String(20))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
