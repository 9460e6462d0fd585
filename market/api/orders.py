"""API routes of orders (read side; each order says which actions its caller may take now).

An order is visible to its two parties and platform staff (orders.services.order_for_party), and,
read-only, to regulators whose scope covers its generator's, pickup or operator's region
(market.region_scope); anyone else gets a 404.
"""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from market.accounts.models import User
from market.api import bp
from market.api.auth import api_user
from market.api.changes import changes_page, feed_request
from market.api.listings import ID, ID_KEYS, _choice_param, _iso, _obj, paginate_newest_first
from market.api.openapi import SCHEMAS
from market.api.pagination import list_body, page_request
from market.orders import actions
from market.orders import queries as order_queries
from market.orders.models import LINE_KINDS, Order
from market.orders.state import ORDER_STATUSES


def visible_order(user: User, order_id: int) -> Order:
    return order_queries.visible_order(user, order_id)[0]


def order_json(order: Order) -> dict:
    return {"id": order.id, "number": order.number, "status": order.status,
            "generator_id": order.generator_id, "operator_id": order.operator_id,
            "request_id": order.request_id, "quote_id": order.quote_id, "offer_id": order.offer_id,
            "licence_item_id": order.licence_item_id, "category": order.category_code,
            "waste_code": order.waste_code, "quantity_kg": order.quantity_kg,
            "region_code": order.region_code, "address": order.address,
            "subject_to_sampling": order.subject_to_sampling, "total_fen": order.total_fen,
            "created_at": _iso(order.created_at),
            "lines": [{"id": ln.id, "kind": ln.kind, "payee_org_id": ln.payee_org_id,
                       "unit_price_fen_per_t": ln.unit_price_fen_per_t,
                       "quantity_kg": ln.quantity_kg, "amount_fen": ln.amount_fen}
                      for ln in order.lines]}


@bp.get(f"/orders/<{ID}:order_id>")
def get_order(order_id: int):
    """One order with its lines and the actions the caller may take now.
    ---
    get:
      tags: [orders]
      summary: An order
      description: >
        Visible to its generator and operator, platform staff, and regulators of its
        generator's, pickup or operator's region. A negative disposal amount means the operator
        pays the generator. `actions` lists what the caller may do now, its next step first
        (empty for regulators).
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The order
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
        401: Unauthorized
        404: NotFound
    """
    order, role = order_queries.visible_order(api_user(), order_id)
    return jsonify({**order_json(order), "actions": actions.for_caller(order, role)})


@bp.get("/orders")
def list_orders():
    """Orders the caller's organisation is party to, newest first.
    ---
    get:
      tags: [orders]
      summary: Orders
      description: >
        Parties see the orders they are generator or operator of; regulators the orders whose
        generator's, pickup or operator's region lies in their scope; platform staff all.
      parameters:
        - name: status
          in: query
          schema: {type: string, enum: [created, sampling, price_confirmed, contract_pending,
                   contract_signed, funding, funded, in_transfer, received, settled, closed,
                   cancelled, disputed, resolved]}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: Orders by id, newest first (with updated_after, in change order)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrderList'}
        401: Unauthorized
        422: ValidationFailed
    """
    user = api_user()
    status = _choice_param("status", ORDER_STATUSES)
    feed = feed_request()
    page = None if feed else page_request(ID_KEYS)
    stmt = order_queries.visible_orders(select(Order), user)
    if status:
        stmt = stmt.where(Order.status == status)
    if feed:
        return jsonify(list_body(changes_page(stmt, Order, feed), order_json))
    return jsonify(list_body(paginate_newest_first(stmt, Order.id, page), order_json))


_I = {"type": "integer"}
_S = {"type": "string"}
_NI = {"type": "integer", "nullable": True}

SCHEMAS["OrderLine"] = _obj(
    ["id", "kind", "payee_org_id", "unit_price_fen_per_t", "quantity_kg", "amount_fen"],
    id=_I, kind={"type": "string", "enum": list(LINE_KINDS)}, payee_org_id=_I,
    unit_price_fen_per_t={**_NI, "description": "Integer fen per tonne; disposal lines only"},
    quantity_kg=_I, amount_fen={**_I, "description": "Integer fen; negative: the operator pays"})
SCHEMAS["Order"] = _obj(
    ["id", "number", "status", "generator_id", "operator_id", "lines"],
    id=_I, number={**_S, "example": "HX2026000123"},
    status={"type": "string", "enum": list(ORDER_STATUSES)}, generator_id=_I, operator_id=_I,
    request_id=_NI, quote_id=_NI, offer_id=_NI, licence_item_id=_I, category=_S,
    waste_code={**_S, "nullable": True}, quantity_kg=_I, region_code=_S, address=_S,
    subject_to_sampling={"type": "boolean"}, total_fen=_I,
    created_at={"type": "string", "format": "date-time"},
    lines={"type": "array", "items": {"$ref": "#/components/schemas/OrderLine"}},
    actions={"type": "array", "items": {"type": "string", "enum": [
        a.name for a in actions.ORDER_ACTIONS]},
        "description": "One order only (GET /orders/{id}): what the caller may do now, its next "
                       "step first"})
SCHEMAS["OrderList"] = _obj(
    ["items", "next"], items={"type": "array", "items": {"$ref": "#/components/schemas/Order"}},
    next={"type": "string", "nullable": True,
          "description": "Pass as ?cursor= for the next page; null on the last"})
