"""API routes of settlement: an order's settlement, the disposal certificate, payables, and
finance recording a bank payout (DESIGN.md §9)."""
from __future__ import annotations

import base64
import binascii
import io

from flask import jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.changes import changes_page, feed_request
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, require_int, require_str
from market.errors import NotFound, ValidationFailed
from market.ledger.codes import MAX_LINE_FEN
from market.ledger.models import Posting
from market.orders import settling
from market.orders.queries import visible_order
from market.settlement import payables as payables_q
from market.settlement import queries

ID = "int(max=2147483647)"
MAX_CERTIFICATE_B64 = 14 * 1024 * 1024


@bp.get(f"/orders/<{ID}:order_id>/settlement")
def get_settlement(order_id: int):
    """The order's settlement: funded, refunded, and each line's amount, fee and release.
    ---
    get:
      tags: [settlement]
      summary: An order's settlement
      description: >
        Visible to whoever may see the order. Before settlement (`pending`) the lines are shown
        as contracted; at settlement the disposal line is repriced at the accepted kilograms
        (received − refused over the received manifests). `topup_due` means the payer must pay
        `topup_fen` more before anything is released; `retained_fen` is kept until the operator
        uploads the disposal certificate. Amounts are integer fen.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The settlement
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Settlement'}
        401: Unauthorized
        404: NotFound
    """
    order, _role = visible_order(api_user(), order_id)
    return jsonify(queries.settlement_view(order).as_json())


def _certificate_file() -> tuple[object, str]:
    """(stream, name) from multipart `certificate`, or JSON {name, content_base64}."""
    if request.mimetype == "multipart/form-data":
        f = request.files.get("certificate")
        if f is None or not f.filename:
            raise ValidationFailed(_("Attach the disposal certificate."), field="certificate")
        return f.stream, f.filename
    body = json_body()
    content = body.get("content_base64")
    if not isinstance(content, str) or len(content) > MAX_CERTIFICATE_B64:
        raise ValidationFailed(_("Attach the disposal certificate."), field="certificate")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("The certificate content must be base64."), field="certificate")
    return io.BytesIO(data), str(body.get("name") or "certificate")[:200]


@bp.post(f"/orders/<{ID}:order_id>/certificate")
@idempotent
def upload_certificate(order_id: int):
    """Upload the disposal certificate (处置证明); any retention is released.
    ---
    post:
      tags: [settlement]
      summary: Upload the disposal certificate
      description: >
        The operator of a settled order, once. Send `multipart/form-data` with a `certificate`
        file (PDF, JPEG or PNG, judged by content), or JSON `{name, content_base64}`. The share
        of the disposal line retained at settlement (SETTLEMENT_RETENTION_BPS) is released to
        the operator. A refused upload stores nothing.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [certificate]
              properties:
                certificate: {type: string, format: binary}
          application/json:
            schema:
              type: object
              required: [content_base64]
              properties:
                name: {type: string}
                content_base64: {type: string, format: byte}
      responses:
        201:
          description: The settlement after the upload
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Settlement'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    user = api_user()
    visible_order(user, order_id)
    stream, name = _certificate_file()
    settling.upload_certificate(user, order_id, stream, name)
    order, _role = visible_order(user, order_id)
    return jsonify(queries.settlement_view(order).as_json()), 201


@bp.get("/payables")
def get_payables():
    """What the platform owes the caller's organisation, its history and what is pending.
    ---
    get:
      tags: [settlement]
      summary: Payables
      description: >
        `balance_fen` is released (or refunded) money not yet paid out. `items` are the
        postings of the organisation's payable account, newest first (+ owed, − paid out).
        `pending_reasons` say why money is not paid out yet: awaiting the payout batch, no payout
        account, a card refund on its way, retention until the disposal certificate, money held
        in escrow until the waste is received, a top-up the organisation owes.

        With `updated_after` this is the payables change feed: an item is one posting of the
        organisation's payable account (a movement of what the platform owes it: + a release or
        refund owed, − a payout), identified by `posting_id`. Postings are never changed, so
        each comes exactly once, in commit order; `balance_fen` is the balance now. Keep passing
        `cursor`; a page shorter than `limit` means up to date for now.
      parameters:
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: The payables (with updated_after, a page of the feed)
          content:
            application/json:
              schema:
                oneOf:
                  - {$ref: '#/components/schemas/Payables'}
                  - {$ref: '#/components/schemas/PayablesFeed'}
        401: Unauthorized
        404: NotFound
        422: ValidationFailed
    """
    user = api_user()
    if user.is_platform or user.is_regulator:
        raise NotFound(_("Payables belong to an organisation trading on the platform."))
    feed = feed_request()
    if feed:
        page = changes_page(payables_q.feed_query(user.org_id), Posting, feed)
        return jsonify({"items": payables_q.feed_items(page.items), "next": page.next,
                        "balance_fen": payables_q.balance(user.org_id)})
    return jsonify(payables_q.payables(user.org_id).as_json())


@bp.post("/finance/payouts")
@idempotent
def record_payout():
    """Record a bank payout executed for an organisation's payable.
    ---
    post:
      tags: [finance]
      summary: Record a bank payout
      description: >
        Finance staff only: a transfer from the custody account to an organisation, out of
        what the platform owes it (Dr payable / Cr clearing:bank). More than is owed is refused
        (422). Each `bank_ref` is booked once: the same details again return the first payout,
        other details are a 409. Settled orders whose money is then all paid out close.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [org_id, amount_fen, bank_ref]
              properties:
                org_id: {type: integer}
                amount_fen: {type: integer, minimum: 1}
                bank_ref: {type: string, maxLength: 100}
      responses:
        201:
          description: The payout
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Payout'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    payout = settling.record_bank_payout(
        api_user(), require_int(body, "org_id", 1, 2_147_483_647),
        require_int(body, "amount_fen", 1, MAX_LINE_FEN), require_str(body, "bank_ref", 100))
    return jsonify(id=payout.id, org_id=payout.org_id, amount_fen=payout.amount_fen,
                   status=payout.status, bank_ref=payout.external_id), 201


_I = {"type": "integer"}
_S = {"type": "string"}
_NI = {"type": "integer", "nullable": True}
SCHEMAS["Settlement"] = {
    "type": "object",
    "required": ["status", "funded_fen", "refunded_fen", "lines"],
    "properties": {
        "status": {"type": "string", "enum": ["pending", "topup_due", "settled", "closed"]},
        "funded_fen": _I, "refunded_fen": _I, "escrow_fen": _I, "topup_fen": _I,
        "accepted_kg": _NI, "retained_fen": _I, "certificate_uploaded": {"type": "boolean"},
        "lines": {"type": "array", "items": {
            "type": "object",
            "required": ["kind", "payee_org_id", "amount_fen", "fee_fen", "released_fen"],
            "properties": {"line_id": _I,
                           "kind": {"type": "string",
                                    "enum": ["disposal", "transport", "sampling"]},
                           "payee_org_id": _I, "amount_fen": _I, "fee_fen": _I,
                           "retained_fen": _I, "released_fen": _I}}}}}
SCHEMAS["Payables"] = {
    "type": "object", "required": ["balance_fen", "items", "pending_reasons"],
    "properties": {
        "balance_fen": _I,
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "entry_id": _I, "posted_at": {**_S, "format": "date-time"},
            "kind": {"type": "string", "enum": ["release", "refund", "fund", "payout",
                                                 "payout_returned", "other"]},
            "amount_fen": _I, "order_id": _NI, "order_number": {**_S, "nullable": True}}}},
        "pending_reasons": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string", "enum": ["awaiting_payout_batch", "no_payout_account",
                                                 "payout_pending", "retention_until_certificate",
                                                 "held_until_received", "topup_due"]},
            "message": _S, "amount_fen": _I, "order_id": _NI,
            "order_number": {**_S, "nullable": True}}}}}}
SCHEMAS["PayablesFeed"] = {
    "type": "object", "required": ["items", "next", "balance_fen"],
    "properties": {
        "balance_fen": {**_I, "description": "The payable balance now"},
        "next": {**_S, "description": "Pass as ?cursor= to resume; never null in a feed"},
        "items": {"type": "array", "items": {"allOf": [
            SCHEMAS["Payables"]["properties"]["items"]["items"],
            {"type": "object", "required": ["posting_id"], "properties": {"posting_id": _I}}]}}}}
SCHEMAS["Payout"] = {
    "type": "object", "required": ["id", "org_id", "amount_fen", "status"],
    "properties": {"id": _I, "org_id": _I, "amount_fen": _I, "bank_ref": _S,
                   "status": {"type": "string", "enum": ["pending", "executed", "failed"]}}}
