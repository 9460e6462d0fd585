"""Transfer manifests (转移联单): one per vehicle trip of an order, in three parts signed in turn.

The generator's part is the manifest's lines and planned pickup, the carrier's part the carrier
organisation, its permit, the vehicle and the driver, the receiver's part the operator's licence,
the weights per line and the disposal method. Signatures are append-only (a database trigger
refuses UPDATE and DELETE); numbers come from a per-(year, city) counter row, so they are gapless.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer,
                        SmallInteger, String, Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation
from market.db import Base, Timestamped, sql_in
from market.manifests.state import (DISCREPANCY_KINDS, DISCREPANCY_STATUSES, MANIFEST_STATUSES,
                                    PARTS, REFUSAL_DISPOSITIONS, SIGN_METHODS)
from market.orders.models import Order

PROVINCIAL_EVENTS = ("shipped", "received")
PROVINCIAL_STATUSES = ("pending", "sent", "failed")


class Manifest(Timestamped, Base):
    """转移联单: the waste of one vehicle trip, from the generator through a carrier to the operator."""
    __tablename__ = "manifest"

    id: Mapped[int] = mapped_column(primary_key=True)
    # YYYY + province (2) + city (2) of the generator's region + 6-digit serial per city and year.
    number: Mapped[str] = mapped_column(String(14), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), index=True)
    # A collection round's trip: one manifest per booking, all linked to the trip.
    trip_id: Mapped[int | None] = mapped_column(ForeignKey("collection_trip.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Random token printed in the QR code: the public verification page needs number + token.
    verify_token: Mapped[str] = mapped_column(String(32))

    # Generator part
    generator_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    planned_pickup_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pickup_address: Mapped[str] = mapped_column(String(300), default="")

    # Carrier part (locks when the manifest ships)
    carrier_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    carrier_permit_number: Mapped[str] = mapped_column(String(60))
    vehicle_plate: Mapped[str] = mapped_column(String(10))
    driver_name: Mapped[str] = mapped_column(String(50))
    driver_phone: Mapped[str] = mapped_column(String(20))
    driver_email: Mapped[str | None] = mapped_column(String(254))

    # Receiver part
    receiver_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    licence_number: Mapped[str] = mapped_column(String(60))
    method_code: Mapped[str | None] = mapped_column(String(4))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the last rendered PDF, and the number the provincial system gave the manifest.
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    provincial_number: Mapped[str | None] = mapped_column(String(60))

    order: Mapped[Order] = relationship()
    generator: Mapped[Organisation] = relationship(foreign_keys=[generator_org_id])
    carrier: Mapped[Organisation] = relationship(foreign_keys=[carrier_org_id])
    receiver: Mapped[Organisation] = relationship(foreign_keys=[receiver_org_id])
    lines: Mapped[list["ManifestLine"]] = relationship(
        back_populates="manifest", order_by="ManifestLine.id", cascade="all, delete-orphan")
    signatures: Mapped[list["ManifestSignature"]] = relationship(
        back_populates="manifest", order_by="ManifestSignature.id")

    __table_args__ = (
        CheckConstraint(sql_in("status", MANIFEST_STATUSES), name="status"),
        CheckConstraint("number ~ '^[0-9]{14}$'", name="number_format"),
        CheckConstraint("status <> 'shipped' OR shipped_at IS NOT NULL", name="shipped_at"),
        CheckConstraint("status NOT IN ('received', 'closed') OR "
                        "(received_at IS NOT NULL AND method_code IS NOT NULL)", name="received"),
    )

    def signature(self, part: str) -> "ManifestSignature | None":
        return next((s for s in self.signatures if s.part == part), None)

    @property
    def sent_kg(self) -> int:
        return sum(ln.sent_kg for ln in self.lines)

    @property
    def accepted_kg(self) -> int | None:
        """Received minus refused over all lines; None until received."""
        if any(ln.received_kg is None for ln in self.lines):
            return None
        return sum(ln.accepted_kg for ln in self.lines)


class ManifestLine(Base):
    """One waste on a manifest: what was sent, and what the receiver weighed and refused."""
    __tablename__ = "manifest_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifest.id", ondelete="CASCADE"),
                                             index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"))
    waste_code: Mapped[str | None] = mapped_column(ForeignKey("waste_code.code"))
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(20))
    packaging: Mapped[str] = mapped_column(String(100), default="")
    count: Mapped[int] = mapped_column(Integer)
    sent_kg: Mapped[int] = mapped_column(BigInteger)
    hazards: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    received_kg: Mapped[int | None] = mapped_column(BigInteger)
    refused_kg: Mapped[int | None] = mapped_column(BigInteger)

    manifest: Mapped[Manifest] = relationship(back_populates="lines")
    discrepancy: Mapped["Discrepancy | None"] = relationship(back_populates="line", uselist=False)

    __table_args__ = (
        CheckConstraint("sent_kg > 0", name="sent_positive"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint("received_kg IS NULL OR received_kg >= 0", name="received_not_negative"),
        CheckConstraint("refused_kg IS NULL OR refused_kg >= 0", name="refused_not_negative"),
        # The receiver records both at once: refused is required (zero allowed).
        CheckConstraint("(received_kg IS NULL) = (refused_kg IS NULL)", name="weighed_together"),
        CheckConstraint("refused_kg IS NULL OR refused_kg <= received_kg", name="refused_within"),
    )

    @property
    def accepted_kg(self) -> int:
        return (self.received_kg or 0) - (self.refused_kg or 0)


class ManifestSignature(Base):
    """Who signed which part, when and how; never updated or deleted (a trigger refuses it)."""
    __tablename__ = "manifest_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifest.id"), index=True)
    part: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    method: Mapped[str] = mapped_column(String(20))
    signer_name: Mapped[str] = mapped_column(String(100))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45))

    manifest: Mapped[Manifest] = relationship(back_populates="signatures")

    __table_args__ = (
        UniqueConstraint("manifest_id", "part", name="uq_manifest_signature_part"),
        CheckConstraint(sql_in("part", PARTS), name="part"),
        CheckConstraint(sql_in("method", SIGN_METHODS), name="method"),
        # A driver code signs the carrier part only, without a login; a login names its user.
        CheckConstraint("(method = 'login' AND user_id IS NOT NULL) OR "
                        "(method = 'driver_code' AND user_id IS NULL AND part = 'carrier')",
                        name="method_user"),
    )


class DriverCode(Timestamped, Base):
    """A one-time code sent to the driver: 6 digits, 15 minutes, once, at most 5 wrong tries."""
    __tablename__ = "manifest_driver_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifest.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 with the app's secret
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    sent_to: Mapped[str] = mapped_column(String(254))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        CheckConstraint("failed_attempts BETWEEN 0 AND 5", name="attempts"),
    )


class ManifestCounter(Base):
    """The last serial given per (year, city): incremented under its row lock, so gapless."""
    __tablename__ = "manifest_counter"

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    city_code: Mapped[str] = mapped_column(String(4), primary_key=True)  # PPCC
    last_serial: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("last_serial BETWEEN 1 AND 999999", name="serial_range"),
    )


class Discrepancy(Timestamped, Base):
    """A line received off by more than the tolerance, or with refused kg: settlement waits."""
    __tablename__ = "manifest_discrepancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_line_id: Mapped[int] = mapped_column(ForeignKey("manifest_line.id"), unique=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifest.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # refusal when any kg was refused
    sent_kg: Mapped[int] = mapped_column(BigInteger)
    received_kg: Mapped[int] = mapped_column(BigInteger)
    refused_kg: Mapped[int] = mapped_column(BigInteger)
    receiver_comment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    generator_comment: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("escrow_dispute.id"))
    # Where refused waste goes: back to the generator (return manifest) or to another receiver.
    refusal_disposition: Mapped[str | None] = mapped_column(String(20))
    refusal_destination_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    refusal_manifest_id: Mapped[int | None] = mapped_column(ForeignKey("manifest.id"))
    refusal_note: Mapped[str | None] = mapped_column(Text)
    refusal_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    line: Mapped[ManifestLine] = relationship(back_populates="discrepancy")

    __table_args__ = (
        CheckConstraint(sql_in("kind", DISCREPANCY_KINDS), name="kind"),
        CheckConstraint(sql_in("status", DISCREPANCY_STATUSES), name="status"),
        CheckConstraint(f"refusal_disposition IS NULL OR {sql_in('refusal_disposition', REFUSAL_DISPOSITIONS)}",
                        name="refusal_disposition"),
        CheckConstraint("length(btrim(receiver_comment)) > 0", name="receiver_comment"),
    )


class ProvincialReport(Timestamped, Base):
    """One event of a manifest to report to the provincial system: written with the use case,
    sent by a job after commit, retried until the provincial system gives its number."""
    __tablename__ = "manifest_provincial_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifest.id"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provincial_number: Mapped[str | None] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSONB)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    manifest: Mapped[Manifest] = relationship()

    __table_args__ = (
        UniqueConstraint("manifest_id", "event", name="uq_manifest_provincial_report_event"),
        CheckConstraint(sql_in("event", PROVINCIAL_EVENTS), name="event"),
        CheckConstraint(sql_in("status", PROVINCIAL_STATUSES), name="status"),
        Index("ix_manifest_provincial_report_unsent", "id",
              postgresql_where=text("status <> 'sent'")),
    )
