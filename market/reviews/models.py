"""A party's review of the other party of a settled order."""
from __future__ import annotations

from sqlalchemy import (BigInteger, CheckConstraint, ForeignKey, Index, Integer, SmallInteger,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped, sql_in
from market.reviews.policies import ALL_CRITERIA, CRITERIA, MAX_SCORE, MIN_SCORE


def _side_has_its_scores(side: str) -> str:
    own = " AND ".join(f"{c} IS NOT NULL" for c in CRITERIA[side])
    other = " AND ".join(f"{c} IS NULL" for c in ALL_CRITERIA if c not in CRITERIA[side])
    return f"(side = '{side}' AND {own} AND {other})"


class Review(Timestamped, Base):
    """`side` is the reviewer's side on the order; the subject is the other party."""
    __tablename__ = "order_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("trade_order.id"))  # the unique key indexes it
    side: Mapped[str] = mapped_column(String(20))
    reviewer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    subject_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    # generator → operator
    on_time: Mapped[int | None] = mapped_column(SmallInteger)
    as_agreed: Mapped[int | None] = mapped_column(SmallInteger)
    communication: Mapped[int | None] = mapped_column(SmallInteger)
    # operator → generator
    as_declared: Mapped[int | None] = mapped_column(SmallInteger)
    payment: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Once per party per order, whatever the races.
        UniqueConstraint("order_id", "side", name="uq_order_review_side"),
        CheckConstraint(sql_in("side", CRITERIA), name="side"),
        CheckConstraint(" OR ".join(_side_has_its_scores(s) for s in CRITERIA), name="side_scores"),
        CheckConstraint(" AND ".join(f"({c} IS NULL OR {c} BETWEEN {MIN_SCORE} AND {MAX_SCORE})"
                                     for c in ALL_CRITERIA), name="score_range"),
        CheckConstraint("reviewer_org_id <> subject_org_id", name="distinct_parties"),
        # A side's review summaries of a batch of organisations (reviews.queries.summaries).
        Index("ix_order_review_subject", "subject_org_id", "side",
              postgresql_include=list(ALL_CRITERIA)),
    )

    @property
    def scores(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in CRITERIA[self.side]}


class OperatorTrackRecord(Base):
    """An operator's track record as running totals: its reviews by generators (count and points
    per criterion) and its shipped manifests, of them how many picked up on time.

    Matching reads it for hundreds of candidates per request, so it is one primary-key row per
    operator rather than aggregates over its reviews and manifests. Triggers on order_review and
    manifest keep it (migration 0024_track_records, which spells out SHIPPED_STATUSES and
    ON_TIME_GRACE of reviews.policies); application code never writes it.
    """
    __tablename__ = "operator_track_record"

    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    reviews: Mapped[int] = mapped_column(Integer, server_default="0")
    on_time_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    as_agreed_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    communication_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    shipped_manifests: Mapped[int] = mapped_column(Integer, server_default="0")
    on_time_manifests: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (
        CheckConstraint("reviews >= 0 AND on_time_points >= 0 AND as_agreed_points >= 0 "
                        "AND communication_points >= 0", name="reviews_counted"),
        CheckConstraint("on_time_manifests BETWEEN 0 AND shipped_manifests", name="manifests_counted"),
    )
