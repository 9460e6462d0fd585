"""API routes of contracts: the contract with its versions, signing, and the PDF itself.

Visible to the order's two parties, platform staff and regulators of the order's region
(generator's, pickup or operator's); only
the parties sign, each by re-entering its password.
"""
from __future__ import annotations

from flask import Response, jsonify, request

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, optional_str, require_str
from market.contracts.models import Contract
from market.contracts.queries import contract_for_viewer, latest_pdf
from market.orders import lifecycle
from market.web.limiter import login_attempts_per_ip

ID = "int(max=2147483647)"


def contract_json(order, contract: Contract | None) -> dict:
    body = {"order_id": order.id, "order_status": order.status, "contract": None}
    if contract is None:
        return body
    body["contract"] = {
        "number": contract.number,
        "versions": [{
            "version": v.version, "status": v.status, "total_fen": v.terms["total_fen"],
            "quantity_kg": v.terms["quantity_kg"], "window_start": v.terms["window_start"],
            "window_end": v.terms["window_end"],
            "documents": [{"id": d.id, "kind": d.kind, "status": d.status, "sha256": d.sha256,
                           "attempts": d.attempts, "error": d.error} for d in v.documents],
            "signatures": [{"party": s.party, "org_id": s.org_id, "user_id": s.user_id,
                            "signed_at": s.signed_at.isoformat(), "ip": s.ip, "sha256": s.sha256}
                           for s in v.signatures]} for v in contract.versions],
        "revisions": [{"id": r.id, "status": r.status, "proposer_party": r.proposer_party,
                       "changes": r.changes} for r in contract.revisions]}
    return body


@bp.get(f"/orders/<{ID}:order_id>/contract")
def get_contract(order_id: int):
    """The order's contract: versions, their documents' rendering status, signatures.
    ---
    get:
      tags: [contracts]
      summary: A contract
      description: >
        Each document is `pending` while the documents worker renders it, then `ready` (with its
        SHA-256) or `failed` (with the error) after the retries.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The contract (null before the order reaches contract_pending)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Contract'}
        401: Unauthorized
        404: NotFound
    """
    order, _role, contract = contract_for_viewer(api_user(), order_id)
    return jsonify(contract_json(order, contract))


@bp.post(f"/orders/<{ID}:order_id>/contract/sign")
@login_attempts_per_ip  # a password is checked: the login budget applies
@idempotent
def sign_contract(order_id: int):
    """Sign the current version of the contract (generator or operator), re-entering the password.
    ---
    post:
      tags: [contracts]
      summary: Sign the contract
      description: >
        Stores signer, organisation, time, IP and the SHA-256 of the exact PDF signed. Pass
        `sha256` to make sure the PDF you read is the one you sign (409 `document_changed`
        otherwise). Signing twice is 409 `already_signed`; a wrong password 403
        `wrong_password`; another organisation's order 404. When both parties have signed, the
        order becomes contract_signed and the signed copy with its signature page is rendered.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [password]
              properties:
                password: {type: string, format: password, maxLength: 200}
                sha256: {type: string, pattern: '^[0-9a-f]{64}$'}
      responses:
        200:
          description: Signed
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SignResult'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
        429: RateLimited
    """
    body = json_body()
    version = lifecycle.sign_contract(api_user(), order_id, require_str(body, "password", 200, strip=False),
                                     ip=request.remote_addr, sha256=optional_str(body, "sha256", 64))
    order = version.contract.order
    return jsonify(status=order.status, version=version.version, version_status=version.status,
                   signed_by=[s.party for s in version.signatures])


@bp.get(f"/orders/<{ID}:order_id>/contract.pdf")
def contract_pdf(order_id: int):
    """The contract PDF that governs the order now.
    ---
    get:
      tags: [contracts]
      summary: The contract PDF
      description: >
        The signed copy of the latest fully signed version when there is one, otherwise the
        latest version's PDF for signing. Its SHA-256 is in the X-Content-SHA256 header.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The PDF
          content:
            application/pdf:
              schema: {type: string, format: binary}
        401: Unauthorized
        404: NotFound
    """
    doc = latest_pdf(api_user(), order_id)
    name = f"{doc.version.contract.number}-v{doc.version.version}-{doc.kind}.pdf"
    return Response(doc.pdf, mimetype="application/pdf",
                    headers={"X-Content-SHA256": doc.sha256,
                             "Content-Disposition": f'attachment; filename="{name}"'})


_I, _S = {"type": "integer"}, {"type": "string"}
_NS = {"type": "string", "nullable": True}
SCHEMAS["Contract"] = {
    "type": "object", "required": ["order_id", "order_status", "contract"],
    "properties": {
        "order_id": _I, "order_status": _S,
        "contract": {"type": "object", "nullable": True, "properties": {
            "number": {**_S, "example": "HT2026000123"},
            "versions": {"type": "array", "items": {"type": "object", "properties": {
                "version": _I, "status": {"type": "string", "enum": ["pending_signatures", "signed",
                                                                    "superseded"]},
                "total_fen": _I, "quantity_kg": _I, "window_start": {**_S, "format": "date"},
                "window_end": {**_S, "format": "date"},
                "documents": {"type": "array", "items": {"type": "object", "properties": {
                    "id": _I, "kind": {"type": "string", "enum": ["draft", "final"]},
                    "status": {"type": "string", "enum": ["pending", "ready", "failed"]},
                    "sha256": _NS, "attempts": _I, "error": _NS}}},
                "signatures": {"type": "array", "items": {"type": "object", "properties": {
                    "party": _S, "org_id": _I, "user_id": _I,
                    "signed_at": {**_S, "format": "date-time"}, "ip": _NS, "sha256": _S}}}}}},
            "revisions": {"type": "array", "items": {"type": "object", "properties": {
                "id": _I, "status": _S, "proposer_party": _S, "changes": {"type": "object"}}}}}}}}
SCHEMAS["SignResult"] = {
    "type": "object", "required": ["status", "version", "version_status", "signed_by"],
    "properties": {"status": {**_S, "description": "The order's status"}, "version": _I,
                   "version_status": _S,
                   "signed_by": {"type": "array", "items": {"type": "string",
                                                            "enum": ["generator", "operator"]}}}}
