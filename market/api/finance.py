"""API routes of platform finance: confirming bank receipts, the trial balance (DESIGN.md §9)."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from market import ledger
from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, require_date, require_int, require_str
from market.errors import PermissionDenied
from market.escrow.funding import due_fen
from market.ledger.codes import MAX_LINE_FEN
from market.orders import lifecycle


def _staff(*roles: str) -> None:
    if api_user().platform_role not in roles:
        raise PermissionDenied(_("This is for platform finance staff."))


@bp.post("/finance/receipts")
@idempotent
def confirm_receipt():
    """Book a receipt from the custody account's statement.
    ---
    post:
      tags: [finance]
      summary: Confirm a bank receipt
      description: >
        Finance staff only. A reference with wrong check digits is refused (422) as a typo;
        one that is not ours at all, or names no order, goes to suspense (`unmatched`). Exactly
        what is due funds the order (`funded`); less leaves it awaiting the rest (`partial`,
        with `remaining_fen`); more funds it and puts the excess in suspense (`excess`), as does
        money for an order no longer awaiting it. Each `bank_ref` is booked once: repeating it
        with the same details returns the first result, with other details is a 409.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ReceiptRequest'}
      responses:
        201:
          description: The booking
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Receipt'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    _staff("finance")
    body = json_body()
    receipt = lifecycle.confirm_receipt(
        api_user(), reference=require_str(body, "reference", 100),
        amount_fen=require_int(body, "amount_fen", 1, MAX_LINE_FEN),
        received_on=require_date(body, "received_on"),
        payer_name=require_str(body, "payer_name", 200),
        bank_ref=require_str(body, "bank_ref", 100))
    req = receipt.funding_request
    return jsonify(status=receipt.status, order_id=req.order_id if req else None,
                   receipt_id=receipt.id, applied_fen=receipt.applied_fen,
                   suspense_fen=receipt.suspense_fen,
                   remaining_fen=due_fen(req) if req and req.status == "open" else 0), 201


@bp.get("/finance/trial-balance")
def trial_balance():
    """Every ledger account's balance; the total must be zero.
    ---
    get:
      tags: [finance]
      summary: Trial balance
      description: >
        Finance and admin staff. Balances are signed as the ledger keeps them (debit positive,
        credit negative), so `total_fen` is 0 for a sound ledger.
      responses:
        200:
          description: The trial balance
          content:
            application/json:
              schema: {$ref: '#/components/schemas/TrialBalance'}
        401: Unauthorized
        403: Forbidden
    """
    _staff("finance", "admin")
    tb = ledger.trial_balance()
    return jsonify(accounts=[{"code": code, "balance_fen": fen} for code, fen in tb.rows],
                   total_fen=tb.total)


_I = {"type": "integer"}
_S = {"type": "string"}
SCHEMAS["ReceiptRequest"] = {
    "type": "object", "required": ["reference", "amount_fen", "received_on", "payer_name",
                                   "bank_ref"],
    "properties": {"reference": {**_S, "maxLength": 100, "example": "HX202600012347"},
                   "amount_fen": {**_I, "minimum": 1},
                   "received_on": {**_S, "format": "date"},
                   "payer_name": {**_S, "maxLength": 200},
                   "bank_ref": {**_S, "maxLength": 100,
                                "description": "The bank's id of the transfer"}}}
SCHEMAS["Receipt"] = {
    "type": "object", "required": ["status", "order_id"],
    "properties": {"status": {"type": "string",
                              "enum": ["funded", "partial", "excess", "unmatched"]},
                   "order_id": {**_I, "nullable": True}, "receipt_id": _I,
                   "applied_fen": _I, "suspense_fen": _I, "remaining_fen": _I}}
SCHEMAS["TrialBalance"] = {
    "type": "object", "required": ["accounts", "total_fen"],
    "properties": {"accounts": {"type": "array", "items": {
        "type": "object", "required": ["code", "balance_fen"],
        "properties": {"code": {**_S, "example": "escrow:HX2026000123"}, "balance_fen": _I}}},
        "total_fen": _I}}
