"""Reviews: each party of a settled order rates the other once; refusals change nothing."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from market import db
from market.audit.models import AuditEvent
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.reviews import policies, queries, services
from market.reviews.errors import AlreadyReviewed, BadScore, NotSettled
from market.reviews.models import Review
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, UserFactory

GEN = {"on_time": 5, "as_agreed": 4, "communication": 3}
OP = {"as_declared": 2, "payment": 5}


def _rows() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Review)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


@pytest.fixture
def settled():
    return make_order(status="settled")


def test_each_party_rates_the_other_once(settled):
    gen_user, op_user = UserFactory(org=settled.generator), UserFactory(org=settled.operator)
    g = services.submit_review(gen_user, settled.id, GEN, "  准时、沟通顺畅 ")
    o = services.submit_review(op_user, settled.id, OP)
    assert (g.side, g.subject_org_id, g.scores, g.comment) == (
        "generator", settled.operator_id, GEN, "准时、沟通顺畅")
    assert (o.side, o.subject_org_id, o.scores, o.comment) == ("operator", settled.generator_id, OP, None)
    assert queries.summary(settled.operator_id) == queries.ReviewSummary(
        1, 4.0, (("on_time", 5.0), ("as_agreed", 4.0), ("communication", 3.0)))
    assert queries.summary(settled.generator_id, "generator").average == 3.5
    # the operator was rated as an operator only
    assert queries.summary(settled.generator_id).count == 0
    with pytest.raises(AlreadyReviewed):
        services.submit_review(UserFactory(org=settled.generator), settled.id, GEN)


def test_closed_orders_may_be_reviewed_and_averages_span_orders():
    op = OrganisationFactory(types=["operator"], region_code="441900")
    a, b = make_order(operator_org=op, status="closed"), make_order(operator_org=op, status="settled")
    services.submit_review(UserFactory(org=a.generator), a.id, {"on_time": 5, "as_agreed": 5, "communication": 5})
    services.submit_review(UserFactory(org=b.generator), b.id, {"on_time": 2, "as_agreed": 3, "communication": 4})
    s = queries.summaries([op.id, a.generator_id])
    assert list(s) == [op.id]
    assert (s[op.id].count, s[op.id].average) == (2, 4.0)


@pytest.mark.parametrize("side,scores,field,rule", [
    ("generator", {**GEN, "payment": 5}, "scores.payment", "not a score the generator gives"),
    ("operator", {**OP, "on_time": 5}, "scores.on_time", "not a score the operator gives"),
    ("generator", {"on_time": 5, "as_agreed": 4}, "scores.communication", "is required"),
    ("generator", {**GEN, "as_agreed": 6}, "scores.as_agreed", "between 1 and 5"),
    ("generator", {**GEN, "as_agreed": 0}, "scores.as_agreed", "between 1 and 5"),
    ("operator", {**OP, "payment": 4.5}, "scores.payment", "whole number"),
    ("operator", {**OP, "payment": "5"}, "scores.payment", "whole number"),
    ("operator", {**OP, "payment": True}, "scores.payment", "whole number"),
])
def test_bad_scores_are_refused_naming_the_score(settled, side, scores, field, rule):
    user = UserFactory(org=settled.generator if side == "generator" else settled.operator)
    before = _rows()
    with pytest.raises(BadScore) as exc, force_locale("en"):
        services.submit_review(user, settled.id, scores)
    assert exc.value.field == field and rule in exc.value.message and exc.value.status == 422
    assert _rows() == before


@pytest.mark.parametrize("status", ["funded", "in_transfer", "received", "cancelled", "disputed"])
def test_only_settled_or_closed_orders_are_reviewed(status):
    order = make_order(status=status)
    before = _rows()
    with pytest.raises(NotSettled):
        services.submit_review(UserFactory(org=order.generator), order.id, GEN)
    assert _rows() == before


def test_strangers_and_staff_cannot_review(settled, admin):
    before = _rows()
    with pytest.raises(NotFound):
        services.submit_review(UserFactory(org=OrganisationFactory(types=["generator"])), settled.id, GEN)
    with pytest.raises(PermissionDenied):
        services.submit_review(admin, settled.id, GEN)
    assert _rows() == before


def test_a_long_comment_is_refused(settled):
    before = _rows()
    with pytest.raises(ValidationFailed) as exc:
        services.submit_review(UserFactory(org=settled.generator), settled.id, GEN,
                               "x" * (policies.MAX_COMMENT + 1))
    assert exc.value.field == "comment"
    assert _rows() == before


def test_the_database_refuses_scores_of_the_wrong_side_or_range(settled):
    user = UserFactory(org=settled.generator)
    for extra in ({**GEN, "payment": 3}, {**GEN, "on_time": 9}):
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.add(Review(order_id=settled.id, side="generator", reviewer_org_id=settled.generator_id,
                                      subject_org_id=settled.operator_id, author_id=user.id, **extra))
                db.session.flush()


def test_check_scores_is_pure():
    assert policies.check_scores("generator", GEN) == GEN
    with pytest.raises(policies.ScoreProblem) as exc:
        policies.check_scores("operator", {"bogus": 1})
    assert (exc.value.rule, exc.value.field) == ("unknown", "bogus")
