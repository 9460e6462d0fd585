"""API routes of reviews: after settlement each party of an order rates the other, once.

The generator sends {scores: {on_time, as_agreed, communication}}, the operator
{scores: {as_declared, payment}}: whole numbers from 1 to 5, with an optional comment. Anyone who
may see the order reads its reviews.
"""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from market.api import bp
from market.api.auth import api_user
from market.api.changes import changes_page, feed_request
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.orders import visible_order
from market.api.pagination import list_body
from market.api.parsing import json_body
from market.errors import ValidationFailed
from market.reviews import services
from market.reviews.models import Review
from market.reviews.policies import ALL_CRITERIA, CRITERIA, MAX_COMMENT, MAX_SCORE, MIN_SCORE
from market.reviews.queries import reviews_of_order

ID = "int(max=2147483647)"


def review_json(review: Review) -> dict:
    return {"id": review.id, "order_id": review.order_id, "side": review.side,
            "reviewer_org_id": review.reviewer_org_id, "subject_org_id": review.subject_org_id,
            "scores": review.scores, "comment": review.comment,
            "created_at": review.created_at.isoformat()}


@bp.get(f"/orders/<{ID}:order_id>/reviews")
def list_reviews(order_id: int):
    """The reviews of an order.
    ---
    get:
      tags: [reviews]
      summary: An order's reviews
      description: >
        At most two: the generator's rating of the operator and the operator's rating of the
        generator. Visible to whoever may see the order. With `updated_after`, a change feed
        of the order's reviews in commit order (keep passing `cursor`).
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: The reviews, oldest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ReviewList'}
        401: Unauthorized
        404: NotFound
    """
    order = visible_order(api_user(), order_id)
    feed = feed_request()
    if feed:
        stmt = select(Review).where(Review.order_id == order.id)
        return jsonify(list_body(changes_page(stmt, Review, feed), review_json))
    return jsonify(items=[review_json(r) for r in reviews_of_order(order.id)], next=None)


@bp.post(f"/orders/<{ID}:order_id>/reviews")
@idempotent
def create_review(order_id: int):
    """Rate the other party of a settled order (once per party).
    ---
    post:
      tags: [reviews]
      summary: Review the other party
      description: >
        The generator gives `on_time`, `as_agreed` and `communication`; the operator
        `as_declared` and `payment`; each a whole number from 1 to 5. A score of the other side,
        a missing one, a fraction or one outside 1–5 is 422 `invalid_score` with `field`
        `scores.<name>`. Before the order is settled (or closed) 409 `order_not_settled`; a
        second review by the same party 409 `already_reviewed`; anyone but the two parties 403
        `not_a_party` (404 when the order is not visible at all).
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ReviewInput'}
      responses:
        201:
          description: The review
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Review'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    scores = body.get("scores")
    if not isinstance(scores, dict):
        raise ValidationFailed(_("%(field)s must be an object of scores.", field="scores"),
                               field="scores")
    review = services.submit_review(api_user(), order_id, scores, body.get("comment"))
    return jsonify(review_json(review)), 201


_SCORE = {"type": "integer", "minimum": MIN_SCORE, "maximum": MAX_SCORE}
SCHEMAS["ReviewInput"] = {
    "type": "object", "required": ["scores"],
    "properties": {
        "scores": {"oneOf": [
            {"type": "object", "title": "generator rates the operator",
             "required": list(CRITERIA["generator"]), "additionalProperties": False,
             "properties": {c: _SCORE for c in CRITERIA["generator"]}},
            {"type": "object", "title": "operator rates the generator",
             "required": list(CRITERIA["operator"]), "additionalProperties": False,
             "properties": {c: _SCORE for c in CRITERIA["operator"]}}]},
        "comment": {"type": "string", "maxLength": MAX_COMMENT, "nullable": True}}}
SCHEMAS["Review"] = {
    "type": "object",
    "required": ["id", "order_id", "side", "reviewer_org_id", "subject_org_id", "scores"],
    "properties": {
        "id": {"type": "integer"}, "order_id": {"type": "integer"},
        "side": {"type": "string", "enum": list(CRITERIA),
                 "description": "The reviewer's side on the order"},
        "reviewer_org_id": {"type": "integer"}, "subject_org_id": {"type": "integer"},
        "scores": {"type": "object", "properties": {c: _SCORE for c in ALL_CRITERIA}},
        "comment": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"}}}
SCHEMAS["ReviewList"] = {
    "type": "object", "required": ["items", "next"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Review"}},
                   "next": {"type": "string", "nullable": True, "description": "Always null"}}}
