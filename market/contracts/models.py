"""Contracts: versions with their terms, rendered PDF documents, signatures and revisions.

Nothing here is ever rewritten once signed: a revision creates a new version with new documents;
a signature names the SHA-256 of the exact bytes it covers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.accounts.models import Organisation, User
from market.db import Base, Timestamped
from market.orders.models import Order


class Contract(Timestamped, Base):
    """签约: the contract of one order; its versions carry the terms."""
    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"), unique=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)

    order: Mapped[Order] = relationship()
    versions: Mapped[list["ContractVersion"]] = relationship(
        back_populates="contract", order_by="ContractVersion.version")
    revisions: Mapped[list["ContractRevision"]] = relationship(
        back_populates="contract", order_by="ContractRevision.id")

    @property
    def current(self) -> "ContractVersion":
        return self.versions[-1]


class ContractVersion(Timestamped, Base):
    """One version's terms, frozen when it is created (parties, lines, window, sampling summary)."""
    __tablename__ = "contract_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    terms: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="pending_signatures")
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    contract: Mapped[Contract] = relationship(back_populates="versions")
    documents: Mapped[list["ContractDocument"]] = relationship(
        back_populates="version", order_by="ContractDocument.id")
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="version", order_by="Signature.id")

    __table_args__ = (
        UniqueConstraint("contract_id", "version", name="uq_contract_version_number"),
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("status IN ('pending_signatures', 'signed', 'superseded')", name="status"),
    )

    def document(self, kind: str) -> "ContractDocument | None":
        return next((d for d in self.documents if d.kind == kind), None)

    def signature(self, party: str) -> "Signature | None":
        return next((s for s in self.signatures if s.party == party), None)


class ContractDocument(Timestamped, Base):
    """A PDF of a version: the draft both parties sign, or the final copy with the signature page."""
    __tablename__ = "contract_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    version: Mapped[ContractVersion] = relationship(back_populates="documents")

    __table_args__ = (
        UniqueConstraint("version_id", "kind", name="uq_contract_document_version_kind"),
        CheckConstraint("kind IN ('draft', 'final')", name="kind"),
        CheckConstraint("status IN ('pending', 'ready', 'failed')", name="status"),
        # Ready means bytes and their hash; the hash is what signatures and verification use.
        CheckConstraint("status <> 'ready' OR (pdf IS NOT NULL AND sha256 IS NOT NULL)",
                        name="ready_has_pdf"),
    )


class Signature(Base):
    """One party's signature: who, for which organisation, when, from where, over which bytes."""
    __tablename__ = "contract_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("contract_document.id"))
    party: Mapped[str] = mapped_column(String(10))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(45))
    sha256: Mapped[str] = mapped_column(String(64), index=True)

    version: Mapped[ContractVersion] = relationship(back_populates="signatures")
    org: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        # Signing twice is refused by the service and, should that be raced, here.
        UniqueConstraint("version_id", "party", name="uq_contract_signature_version_party"),
        CheckConstraint("party IN ('generator', 'operator')", name="party"),
    )


class ContractRevision(Timestamped, Base):
    """A change one party proposes to a signed version; accepted, it becomes the next version."""
    __tablename__ = "contract_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    base_version_id: Mapped[int] = mapped_column(ForeignKey("contract_version.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    proposer_party: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    new_version_id: Mapped[int | None] = mapped_column(ForeignKey("contract_version.id"))

    contract: Mapped[Contract] = relationship(back_populates="revisions")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])

    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'accepted', 'rejected')", name="status"),
        CheckConstraint("proposer_party IN ('generator', 'operator')", name="proposer_party"),
        # One open proposal at a time per contract.
        Index("uq_contract_revision_open", "contract_id", unique=True,
              postgresql_where=text("status = 'proposed'")),
    )
