"""API routes of escrow: paying an order into escrow, disputing it (DESIGN.md §9)."""
from __future__ import annotations

import base64
import binascii
import io

from flask import jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, require_str
from market.errors import ValidationFailed
from market.escrow import disputes
from market.orders import lifecycle
from market.web.inputs import text_problem

ID = "int(max=2147483647)"
MAX_EVIDENCE_BYTES_B64 = 14 * 1024 * 1024


@bp.post(f"/orders/<{ID}:order_id>/funding")
@idempotent
def fund_order(order_id: int):
    """How to pay an order into escrow.
    ---
    post:
      tags: [escrow]
      summary: Funding instructions for the caller's organisation
      description: >
        For a payer of an order whose contract is signed (or already awaiting funding). The
        first call moves the order to `funding` and asks every payer for its amount: all lines at
        contract quantities. The generator pays, or the operator for a negative-price disposal
        line (the platform fee is then added on top). Bank gateway: the custody account, the
        amount still due and the reference to quote (order number plus check digits). Stripe
        gateway: the client secret of a PaymentIntent for the amount still due. Calling again
        returns the same reference and amount still due.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      responses:
        200:
          description: Instructions
          content:
            application/json:
              schema: {$ref: '#/components/schemas/FundingInstructions'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    return jsonify(lifecycle.request_funding(api_user(), order_id))


def _evidence_files() -> tuple[str, list[tuple[object, str]]]:
    """(reason, [(stream, name)]) from multipart form data or a JSON body with base64 files."""
    if request.mimetype == "multipart/form-data":
        files = [(f.stream, f.filename or "evidence") for f in request.files.getlist("evidence")
                 if f and f.filename]
        reason = request.form.get("reason", "")
        if not isinstance(reason, str):
            raise ValidationFailed(_("%(field)s must be a string.", field="reason"), field="reason")
        return reason, files
    body = json_body()
    reason = require_str(body, "reason", 2000)
    raw = body.get("evidence") or []
    if not isinstance(raw, list):
        raise ValidationFailed(_("evidence must be a list of {name, content_base64}."),
                               field="evidence")
    files = []
    for item in raw:
        content = item.get("content_base64") if isinstance(item, dict) else None
        if not isinstance(content, str) or len(content) > MAX_EVIDENCE_BYTES_B64:
            raise ValidationFailed(_("evidence must be a list of {name, content_base64}."),
                                   field="evidence")
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(_("evidence content must be base64."), field="evidence")
        name = str(item.get("name") or "evidence")[:200]
        # the name is served back in a Content-Disposition header: one clean line or nothing
        problem = text_problem("evidence.name", name, single_line=True)
        if problem:
            raise ValidationFailed(problem, field="evidence")
        files.append((io.BytesIO(data), name))
    return reason, files


@bp.post(f"/orders/<{ID}:order_id>/disputes")
@idempotent
def open_dispute(order_id: int):
    """Dispute an order whose money is in escrow.
    ---
    post:
      tags: [escrow]
      summary: Open a dispute
      description: >
        The generator or the operator, when the order is `received` or `settled` and money is
        still held. Send `multipart/form-data` with `reason` and one to five `evidence` files
        (PDF, JPEG or PNG, judged by content), or JSON with `reason` and `evidence` as
        `[{name, content_base64}]`. The money stays in escrow until an admin splits it.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [reason, evidence]
              properties:
                reason: {type: string, maxLength: 2000}
                evidence: {type: array, items: {type: string, format: binary}}
          application/json:
            schema:
              type: object
              required: [reason, evidence]
              properties:
                reason: {type: string, maxLength: 2000}
                evidence:
                  type: array
                  items:
                    type: object
                    properties:
                      name: {type: string}
                      content_base64: {type: string, format: byte}
      responses:
        201:
          description: The dispute
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Dispute'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    reason, files = _evidence_files()
    dispute = disputes.open_dispute(api_user(), order_id, reason, files)
    return jsonify(id=dispute.id, order_id=dispute.order_id, status=dispute.status,
                   evidence=len(files)), 201


_I = {"type": "integer"}
_S = {"type": "string"}
SCHEMAS["FundingInstructions"] = {
    "type": "object", "required": ["gateway", "amount_fen", "reference", "order_id", "status"],
    "properties": {
        "gateway": {"type": "string", "enum": ["bank", "stripe"]},
        "amount_fen": {**_I, "description": "Still due, integer fen"},
        "reference": {**_S, "description": "Quote it on the transfer; check digits catch typos"},
        "account": {"type": "object", "description": "Bank gateway: the custody account",
                    "properties": {"name": _S, "number": _S, "bank": _S}},
        "client_secret": {**_S, "description": "Stripe gateway: confirm the PaymentIntent"},
        "payment_id": {**_S, "description": "Stripe gateway: the PaymentIntent id"},
        "order_id": _I, "status": {**_S, "description": "The order's status"}}}
SCHEMAS["Dispute"] = {"type": "object", "required": ["id", "order_id", "status"],
                      "properties": {"id": _I, "order_id": _I,
                                     "status": {"type": "string", "enum": ["open", "resolved"]},
                                     "evidence": {**_I, "description": "Files attached"}}}
