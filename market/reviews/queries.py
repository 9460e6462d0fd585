"""Read side of reviews: an order's reviews, and an organisation's record as others rated it.

record_of() and records() answer with one statement whatever the number of organisations, so the
matching path asks once per batch of candidates, never once per operator. Track records are running
totals the database keeps (models.OperatorTrackRecord).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from market import db
from market.reviews.models import OperatorTrackRecord, Review
from market.reviews.policies import CRITERIA, REVIEWABLE_STATUSES, subject_side


@dataclass(frozen=True)
class ReviewSummary:
    """How the other parties rated an organisation: reviews, their mean score, per criterion."""
    count: int = 0
    average: float | None = None                  # mean of each review's mean score, 1–5
    criteria: tuple[tuple[str, float], ...] = ()  # (criterion, mean), in the documented order


@dataclass(frozen=True)
class TrackRecord:
    """An operator's record: its reviews by generators and its manifests picked up on time."""
    reviews: ReviewSummary = ReviewSummary()
    shipped_manifests: int = 0
    on_time_manifests: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of shipped manifests picked up on time; None while none has shipped."""
        return self.on_time_manifests / self.shipped_manifests if self.shipped_manifests else None


def reviews_of_order(order_id: int) -> list[Review]:
    return list(db.session.scalars(select(Review).where(Review.order_id == order_id)
                                   .order_by(Review.id)))


def review_panel(order, side: str | None) -> dict:
    """What the order page shows: the reviews, and whether the viewer's side may still write one."""
    reviews = reviews_of_order(order.id)
    may_review = (side in CRITERIA and order.status in REVIEWABLE_STATUSES
                  and all(r.side != side for r in reviews))
    return {"reviews": reviews, "review_side": side if may_review else None}


def _mean_expr(criteria: tuple[str, ...]):
    """One review's mean score over the given criteria (all set on reviews of one side)."""
    total = sum((getattr(Review, c) for c in criteria[1:]), getattr(Review, criteria[0]))
    return total * 1.0 / len(criteria)


@functools.cache
def _summary_statement(side: str):
    crit = CRITERIA[side]
    return (select(Review.subject_org_id, func.count(), func.avg(_mean_expr(crit)),
                   *(func.avg(getattr(Review, c)) for c in crit))
            .where(Review.side == side,
                   Review.subject_org_id == any_(bindparam("org_ids", type_=ARRAY(Integer))))
            .group_by(Review.subject_org_id))


def summaries(org_ids, as_side: str = "operator") -> dict[int, ReviewSummary]:
    """Per organisation, how the other parties rated it in its role `as_side` (operator: rated by
    generators; generator: rated by operators). Organisations never rated are left out."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    side = subject_side(as_side)  # the side that wrote the reviews
    crit = CRITERIA[side]
    out = {}
    for org_id, count, mean, *per in db.session.execute(_summary_statement(side), {"org_ids": ids}):
        out[org_id] = ReviewSummary(
            int(count), round(float(mean), 2),
            tuple((c, round(float(v), 2)) for c, v in zip(crit, per) if v is not None))
    return out


def summary(org_id: int, as_side: str = "operator") -> ReviewSummary:
    return summaries([org_id], as_side).get(org_id, ReviewSummary())


def record_columns(org_id_column) -> tuple:
    """The track record of the operator in `org_id_column` of an enclosing query: the table to
    outer-join ON the returned condition and its columns (review count, points, shipped and on-time
    manifests), read in the enclosing statement's round trip. Turn a row's values into the
    ranking's figures with ranking_figures()."""
    t = OperatorTrackRecord
    first, *rest = _points_columns()
    return (t, t.org_id == org_id_column,
            [t.reviews, sum(rest, first), t.shipped_manifests, t.on_time_manifests])


def ranking_figures(n, points, shipped, on_time) -> tuple[int, float | None, int, float | None]:
    """(review count, review average, shipped manifests, on-time rate) from the columns of
    record_columns(), rounded as TrackRecord rounds them: what ranking reads, without building a
    TrackRecord for each of hundreds of candidates. An operator without a row has NULLs."""
    n, shipped = n or 0, shipped or 0
    return (n, _review_average(n, points) if n else None, shipped,
            on_time / shipped if shipped else None)


_NO_REVIEWS = ReviewSummary()


def _points_columns() -> list:
    """The running totals of the points generators gave, one per criterion in its order."""
    return [getattr(OperatorTrackRecord, f"{c}_points") for c in CRITERIA["generator"]]


def _review_average(n: int, points: int) -> float:
    """The mean of n reviews' mean scores from their points: each review's mean is its points
    over the number of criteria."""
    return round(points / (len(CRITERIA["generator"]) * n), 2)


def _record(n, criteria_points, shipped, on_time) -> TrackRecord:
    crit = CRITERIA["generator"]
    reviews = (ReviewSummary(n, _review_average(n, sum(criteria_points)),
                             tuple([(c, round(p / n, 2)) for c, p in zip(crit, criteria_points)]))
               if n else _NO_REVIEWS)
    return TrackRecord(reviews, shipped, on_time)


@functools.cache
def _records_statement():
    t = OperatorTrackRecord
    return (select(t.org_id, t.reviews, *_points_columns(), t.shipped_manifests, t.on_time_manifests)
            .where(t.org_id == any_(bindparam("org_ids", type_=ARRAY(Integer)))))


def records(org_ids) -> dict[int, TrackRecord]:
    """Per operator, its track record: one statement whatever the number of operators."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    out = {org_id: TrackRecord() for org_id in ids}
    # Core execution on the session's connection: plain rows, none of the ORM's result handling.
    for org_id, n, *points, shipped, on_time in db.session.connection().execute(
            _records_statement(), {"org_ids": ids}):
        out[org_id] = _record(n, points, shipped, on_time)
    return out


def record_of(org_id: int) -> TrackRecord:
    return records([org_id])[org_id]
