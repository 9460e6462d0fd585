"""A party's review of the other party of a settled order."""
from __future__ import annotations

from sqlalchemy import (CheckConstraint, ForeignKey, Index, SmallInteger, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base, Timestamped, sql_in
from market.manifests.models import Manifest
from market.reviews.policies import (ALL_CRITERIA, CRITERIA, MAX_SCORE, MIN_SCORE,
                                     SHIPPED_STATUSES)


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
        # Track records are read with every match (reviews.queries.records): index-only scans.
        Index("ix_order_review_subject", "subject_org_id", "side",
              postgresql_include=list(ALL_CRITERIA)),
    )

    @property
    def scores(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in CRITERIA[self.side]}


# The other half of a track record: an operator's shipped manifests with their pickup times, read
# with every match. Kept beside the query that needs it (reviews.queries.records) so the scan is
# index-only however many manifests an operator has; its migration is 0009_reviews.
Index("ix_manifest_shipped_receiver", Manifest.receiver_org_id,
      postgresql_include=["planned_pickup_at", "shipped_at"],
      postgresql_where=text(f"{sql_in('status', SHIPPED_STATUSES)} AND shipped_at IS NOT NULL"))
