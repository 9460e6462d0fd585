"""Orders and their lines; an order comes from an accepted quote or a storefront offer."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.db import Base, Timestamped, sql_in
from market.orders.state import ORDER_STATUSES

LINE_KINDS = ("disposal", "transport", "sampling")


class Order(Timestamped, Base):
    """One deal between a generator and an operator; `trade_order` because ORDER is SQL."""
    __tablename__ = "trade_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("disposal_request.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("storefront_offer.id"), index=True)
    # A collection booking is settled on its own as an order of this source (market.collection).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("collection_booking.id"), unique=True)
    # UNIQUE: one quote yields at most one order, whatever the races.
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("quote.id"), unique=True)
    generator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    licence_item_id: Mapped[int] = mapped_column(ForeignKey("licence_item.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    waste_code: Mapped[str | None] = mapped_column(ForeignKey("waste_code.code"))
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    subject_to_sampling: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="created", index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    generator: Mapped[Organisation] = relationship(foreign_keys=[generator_id])
    operator: Mapped[Organisation] = relationship(foreign_keys=[operator_id])
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("quantity_kg > 0", name="quantity_positive"),
        CheckConstraint(sql_in("status", ORDER_STATUSES),
                        name="status"),
        CheckConstraint("generator_id <> operator_id", name="distinct_parties"),
        # From a quote (which belongs to a request), a storefront offer or a collection booking.
        CheckConstraint("(quote_id IS NOT NULL AND request_id IS NOT NULL AND offer_id IS NULL"
                        " AND booking_id IS NULL)"
                        " OR (quote_id IS NULL AND request_id IS NULL AND offer_id IS NOT NULL"
                        " AND booking_id IS NULL)"
                        " OR (quote_id IS NULL AND request_id IS NULL AND offer_id IS NULL"
                        " AND booking_id IS NOT NULL)",
                        name="one_source"),
    )

    def line(self, kind: str) -> "OrderLine | None":
        return next((ln for ln in self.lines if ln.kind == kind), None)

    def other_party(self, org_id: int) -> int:
        """The operator for the generator, the generator for anyone else (call it for a party)."""
        return self.operator_id if org_id == self.generator_id else self.generator_id

    @property
    def total_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.lines)


class OrderLine(Base):
    """A priced line. A negative disposal amount means the operator pays the generator."""
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id", ondelete="CASCADE"),
                                          index=True)
    kind: Mapped[str] = mapped_column(String(20))
    payee_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    unit_price_fen_per_t: Mapped[int | None] = mapped_column(BigInteger)
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    # Always market.money.line_amount_fen(unit price, kg) for priced lines (at least minimum_fen
    # when set); the fee itself otherwise.
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # A collection pickup's minimum charge: the disposal line settles at max(minimum, price × kg).
    minimum_fen: Mapped[int | None] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("kind IN ('disposal', 'transport', 'sampling')", name="kind"),
        CheckConstraint("quantity_kg > 0", name="quantity_positive"),
        CheckConstraint("(kind = 'disposal') = (unit_price_fen_per_t IS NOT NULL)",
                        name="priced_disposal"),
        CheckConstraint("kind = 'disposal' OR amount_fen >= 0", name="fees_not_negative"),
        CheckConstraint("minimum_fen IS NULL OR (kind = 'disposal' AND minimum_fen >= 0)",
                        name="minimum"),
    )
