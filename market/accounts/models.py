from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Date, DateTime, FetchedValue,
                        ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.db import Base, Timestamped, sql_in

ORG_TYPES = ("generator", "operator", "carrier", "lab")
ORG_KINDS = ("enterprise", "regulator", "platform")
ORG_STATUSES = ("pending", "verified", "rejected", "suspended")
PLATFORM_ROLES = ("admin", "finance")
OPERATIONS = ("收集", "贮存", "利用", "处置")
LICENCE_KINDS = {"comprehensive": 5, "collection": 3}  # kind → maximum validity in years
DOC_STATUSES = ("pending", "verified", "rejected")
PERMIT_KINDS = ("transport", "cma")  # dangerous-goods road transport permit; lab accreditation
# What a verified organisation changes only through a change request an admin approves.
IDENTITY_FIELDS = ("name", "credit_code", "types", "region_code")
CHANGE_STATUSES = ("pending", "approved", "rejected", "withdrawn")


class CorporateGroup(Timestamped, Base):
    """Organisations under one owner: the price index counts a group's operators as one
    contributor (pricing/disclosure.py). Set by a platform admin."""
    __tablename__ = "corporate_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    __table_args__ = (CheckConstraint("btrim(name) <> ''", name="name_not_blank"),)


class Organisation(Timestamped, Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="enterprise")
    types: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[float | None] = mapped_column(Numeric(9, 6))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    credit_score: Mapped[int] = mapped_column(SmallInteger, default=100)
    # Regulators see every record whose region code starts with this prefix.
    scope_prefix: Mapped[str | None] = mapped_column(String(6))
    corporate_group_id: Mapped[int | None] = mapped_column(ForeignKey("corporate_group.id"),
                                                           index=True)
    corporate_group: Mapped[CorporateGroup | None] = relationship()

    users: Mapped[list["User"]] = relationship(back_populates="org")
    licences: Mapped[list["Licence"]] = relationship(back_populates="org", order_by="Licence.id")
    permits: Mapped[list["Permit"]] = relationship(back_populates="org", order_by="Permit.id")

    __table_args__ = (
        CheckConstraint("kind IN ('enterprise','regulator','platform')", name="kind"),
        CheckConstraint("status IN ('pending','verified','rejected','suspended')", name="status"),
        CheckConstraint("kind <> 'regulator' OR scope_prefix IS NOT NULL", name="regulator_scope"),
        # Operators nearest a pickup, for explanations a page at a time (listings/explain_pages.py).
        Index("ix_organisation_coordinates", "latitude", "longitude",
              postgresql_include=["id", "kind", "types"]),
    )

    def has_type(self, t: str) -> bool:
        return t in (self.types or [])

    @property
    def is_verified(self) -> bool:
        return self.status == "verified"

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return float(self.latitude), float(self.longitude)


class User(Timestamped, Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    platform_role: Mapped[str | None] = mapped_column(String(20))
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    org: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    __table_args__ = (
        CheckConstraint("platform_role IS NULL OR platform_role IN ('admin','finance')",
                        name="platform_role"),
    )

    # flask-login protocol
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_regulator(self) -> bool:
        return self.org.kind == "regulator"

    @property
    def is_platform(self) -> bool:
        """Platform staff: a platform role granted by an admin. Membership of the platform
        organisation alone grants nothing (DESIGN.md §1)."""
        return self.platform_role in PLATFORM_ROLES and self.org.kind == "platform"

    @property
    def role(self) -> str:
        """The role that decides the user's dashboard (DESIGN.md §1)."""
        if self.platform_role:
            return self.platform_role
        if self.is_regulator:
            return "regulator"
        for t in ORG_TYPES:
            if self.org.has_type(t):
                return t
        return "generator"


class Invitation(Timestamped, Base):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Into the platform organisation only, chosen by the inviting admin.
    platform_role: Mapped[str | None] = mapped_column(String(20))

    org: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("platform_role IS NULL OR platform_role IN ('admin','finance')",
                        name="platform_role"),
    )


class OrgChangeRequest(Timestamped, Base):
    """A verified organisation's request to change its identity; live only once approved."""
    __tablename__ = "org_change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    changes: Mapped[dict] = mapped_column(JSONB)  # field → requested value
    previous: Mapped[dict] = mapped_column(JSONB)  # field → value when requested
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)

    org: Mapped[Organisation] = relationship()
    requested_by: Mapped["User"] = relationship(foreign_keys=[requested_by_id])

    __table_args__ = (
        CheckConstraint(sql_in("status", CHANGE_STATUSES), name="status"),
        # one open request per organisation
        Index("uq_org_change_request_pending", "org_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )


class VerifiedDocument:
    """A licence or permit: validity, admin verification and a scanned copy."""
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    scan_file: Mapped[str | None] = mapped_column(String(80))
    scan_mime: Mapped[str | None] = mapped_column(String(40))

    def is_valid_on(self, day: date) -> bool:
        return self.status == "verified" and self.valid_from <= day <= self.valid_to


class Licence(VerifiedDocument, Timestamped, Base):
    """危险废物经营许可证."""
    __tablename__ = "licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))

    org: Mapped[Organisation] = relationship(back_populates="licences")
    items: Mapped[list["LicenceItem"]] = relationship(back_populates="licence",
                                                      order_by="LicenceItem.id",
                                                      cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("kind IN ('comprehensive','collection')", name="kind"),
        CheckConstraint("status IN ('pending','verified','rejected')", name="status"),
        CheckConstraint("valid_to >= valid_from", name="validity"),
    )


class LicenceItem(Base):
    """One approved line of a licence: category, optional codes, operations, methods, annual scale."""
    __tablename__ = "licence_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id", ondelete="CASCADE"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"), index=True)
    codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    operations: Mapped[list[str]] = mapped_column(ARRAY(String(4)))
    method_codes: Mapped[list[str]] = mapped_column(ARRAY(String(4)), default=list)
    approved_kg_per_year: Mapped[int] = mapped_column(BigInteger)
    # Copies of its licence's holder and terms, kept by the database (migration
    # 0025_licence_item_terms) so that matching finds the qualifying items of a category without
    # joining every licence; the application reads the licence itself and never writes these.
    # No foreign key on the holder: the licence's own one vouches for it, and a second path from
    # items to organisations would make every implicit join between them ambiguous.
    licence_org_id: Mapped[int] = mapped_column(Integer, server_default=FetchedValue(),
                                                server_onupdate=FetchedValue())
    licence_status: Mapped[str] = mapped_column(String(20), server_default=FetchedValue(),
                                                server_onupdate=FetchedValue())
    licence_valid_from: Mapped[date] = mapped_column(Date, server_default=FetchedValue(),
                                                     server_onupdate=FetchedValue())
    licence_valid_to: Mapped[date] = mapped_column(Date, server_default=FetchedValue(),
                                                   server_onupdate=FetchedValue())
    licence_number: Mapped[str] = mapped_column(String(60), server_default=FetchedValue(),
                                                server_onupdate=FetchedValue())

    licence: Mapped[Licence] = relationship(back_populates="items")

    __table_args__ = (
        CheckConstraint("approved_kg_per_year > 0", name="approved_positive"),
        CheckConstraint("cardinality(operations) > 0", name="operations_present"),
    )

    def covers(self, category: str, code: str | None = None) -> bool:
        """True when this item licenses the category and, if it lists codes, the code."""
        if category != self.category_code:
            return False
        if self.codes and code is not None:
            return code in self.codes
        return True


class Permit(VerifiedDocument, Timestamped, Base):
    """A carrier's dangerous-goods road transport permit or a lab's CMA accreditation."""
    __tablename__ = "permit"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(60))

    org: Mapped[Organisation] = relationship(back_populates="permits")

    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_permit_kind_number"),
        CheckConstraint("kind IN ('transport','cma')", name="kind"),
        CheckConstraint("status IN ('pending','verified','rejected')", name="status"),
        CheckConstraint("valid_to >= valid_from", name="validity"),
    )


class ExpiryReminder(Base):
    """Marks a reminder as sent, so the daily job never repeats one."""
    __tablename__ = "expiry_reminder"

    document_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    days_before: Mapped[int] = mapped_column(Integer, primary_key=True)


class ApiToken(Timestamped, Base):
    __tablename__ = "api_token"
    # Credentials, not trades: a suspended organisation's users still sign in to read, and end
    # their own sessions and tokens (market.acting).
    __suspension_exempt__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Revoked by its owner, or with every other credential of the user on a password change.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")


class UserSession(Timestamped, Base):
    """One browser login. The cookie carries a random id whose hash is stored here, so logging out,
    a password change or the idle timeout ends the session on the server, copied cookies too."""
    __tablename__ = "user_session"
    __suspension_exempt__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
