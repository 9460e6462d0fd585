"""Read side of reviews: an order's reviews, and an organisation's record as others rated it.

record_of() and records() answer with one statement whatever the number of organisations, so the
matching path asks once per batch of candidates, never once per operator.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Float, Integer, any_, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from market import db
from market.manifests.models import Manifest
from market.reviews.models import Review
from market.reviews.policies import (CRITERIA, ON_TIME_GRACE, REVIEWABLE_STATUSES,
                                     SHIPPED_STATUSES, subject_side)


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


def record_columns(org_id_column, *, criteria: bool = True) -> tuple[list, list]:
    """The track record of the operator in `org_id_column` of an enclosing query, as LATERAL
    subqueries to join ON true and their columns: review count, mean, per-criterion means (unless
    `criteria` is False: ranking reads only the mean), shipped and on-time manifests (the twin of
    records(), read in the enclosing statement's round trip). Build the TrackRecord with
    record_from_columns(), or the ranking's figures with ranking_figures()."""
    crit = CRITERIA["generator"] if criteria else ()
    reviews = (select(func.count().label("n"), _float_avg(_mean_expr(CRITERIA["generator"])).label("mean"),
                      *(_float_avg(getattr(Review, c)).label(c) for c in crit))
               .where(Review.side == "generator", Review.subject_org_id == org_id_column)
               .lateral("track_reviews"))
    late_after = Manifest.planned_pickup_at + literal(ON_TIME_GRACE)
    shipped = (select(func.count().label("n"),
                      func.count().filter(Manifest.shipped_at <= late_after).label("on_time"))
               .where(Manifest.receiver_org_id == org_id_column,
                      Manifest.status.in_(SHIPPED_STATUSES), Manifest.shipped_at.is_not(None))
               .lateral("track_shipped"))
    return ([reviews, shipped],
            [reviews.c.n, reviews.c.mean, *(reviews.c[c] for c in crit), shipped.c.n,
             shipped.c.on_time])


def ranking_figures(n, mean, shipped, on_time) -> tuple[int, float | None, int, float | None]:
    """(review count, review average, shipped manifests, on-time rate) from the columns of
    record_columns(criteria=False), rounded as TrackRecord rounds them: what ranking reads, without
    building a TrackRecord for each of hundreds of candidates."""
    return (n, round(mean, 2) if n else None, shipped or 0,
            (on_time or 0) / shipped if shipped else None)


_NO_REVIEWS = ReviewSummary()


def record_from_columns(n, mean, *rest) -> TrackRecord:
    """A TrackRecord from the values of record_columns() (or a row of records' statement)."""
    crit = CRITERIA["generator"]
    k = len(crit)
    reviews = (ReviewSummary(int(n), round(mean, 2),
                             tuple([(c, round(v, 2)) for c, v in zip(crit, rest[:k])]))
               if n else _NO_REVIEWS)
    return TrackRecord(reviews, rest[k] or 0, rest[k + 1] or 0)


def _float_avg(expr):
    """avg() as double precision: psycopg returns a float, not a Decimal to convert (matching
    reads hundreds of these per request)."""
    return cast(func.avg(expr), Float)


@functools.cache
def _records_statement():
    """Reviews by generators and manifests picked up on time, per operator, in one statement."""
    ids = bindparam("org_ids", type_=ARRAY(Integer))
    crit = CRITERIA["generator"]
    reviews = (select(Review.subject_org_id.label("org_id"), func.count().label("n"),
                      _float_avg(_mean_expr(crit)).label("mean"),
                      *(_float_avg(getattr(Review, c)).label(c) for c in crit))
               .where(Review.side == "generator", Review.subject_org_id == any_(ids))
               .group_by(Review.subject_org_id).subquery())
    late_after = Manifest.planned_pickup_at + literal(ON_TIME_GRACE)
    shipped = (select(Manifest.receiver_org_id.label("org_id"), func.count().label("n"),
                      func.count().filter(Manifest.shipped_at <= late_after).label("on_time"))
               .where(Manifest.receiver_org_id == any_(ids),
                      Manifest.status.in_(SHIPPED_STATUSES), Manifest.shipped_at.is_not(None))
               .group_by(Manifest.receiver_org_id).subquery())
    return (select(func.coalesce(reviews.c.org_id, shipped.c.org_id), reviews.c.n, reviews.c.mean,
                   *(reviews.c[c] for c in crit), shipped.c.n, shipped.c.on_time)
            .select_from(reviews.outerjoin(shipped, reviews.c.org_id == shipped.c.org_id,
                                           full=True)))


def records(org_ids) -> dict[int, TrackRecord]:
    """Per operator, its track record: one statement whatever the number of operators."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    out = {org_id: TrackRecord() for org_id in ids}
    # Core execution on the session's connection: plain rows, none of the ORM's result handling.
    for org_id, *values in db.session.connection().execute(_records_statement(),
                                                           {"org_ids": ids}):
        out[org_id] = record_from_columns(*values)
    return out


def record_of(org_id: int) -> TrackRecord:
    return records([org_id])[org_id]
