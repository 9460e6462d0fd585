"""API routes of transfer manifests (DESIGN.md §9): drafting, signing (by login or the driver's
one-time code), receiving with weights, and answering discrepancies."""
from __future__ import annotations

import base64
import binascii
import io

from flask import g, jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api import manifest_schemas  # noqa: F401  (registers the schemas below)
from market.api.parsing import json_body
from market.errors import DomainError, ValidationFailed
from market.manifests import signing
from market.manifests.access import visible_manifest
from market.manifests.models import Manifest
from market.manifests.queries import actions_for, discrepancies_of
from market.orders import lifecycle

ID = "int(max=2147483647)"
MAX_EVIDENCE_BYTES_B64 = 14 * 1024 * 1024


class Unauthenticated(DomainError):
    code = "unauthorized"
    status = 401


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def manifest_json(manifest: Manifest, user) -> dict:
    found = discrepancies_of(manifest.id)
    return {
        "id": manifest.id, "number": manifest.number, "status": manifest.status,
        "order_id": manifest.order_id, "generator_id": manifest.generator_org_id,
        "carrier_id": manifest.carrier_org_id, "operator_id": manifest.receiver_org_id,
        "planned_pickup_at": _iso(manifest.planned_pickup_at),
        "carrier_permit_number": manifest.carrier_permit_number,
        "vehicle_plate": manifest.vehicle_plate, "driver_name": manifest.driver_name,
        "licence_number": manifest.licence_number, "method_code": manifest.method_code,
        "shipped_at": _iso(manifest.shipped_at), "received_at": _iso(manifest.received_at),
        "provincial_number": manifest.provincial_number,
        "signatures": [{"part": s.part, "method": s.method, "signer_name": s.signer_name,
                        "signed_at": _iso(s.signed_at)} for s in manifest.signatures],
        "lines": [{"id": ln.id, "category": ln.category_code, "waste_code": ln.waste_code,
                   "name": ln.name, "form": ln.form, "packaging": ln.packaging,
                   "count": ln.count, "quantity_kg": ln.sent_kg, "received_kg": ln.received_kg,
                   "refused_kg": ln.refused_kg,
                   "discrepancy": None if ln.id not in found else {
                       "kind": found[ln.id].kind, "status": found[ln.id].status,
                       "receiver_comment": found[ln.id].receiver_comment,
                       "generator_comment": found[ln.id].generator_comment}}
                  for ln in manifest.lines],
        "actions": actions_for(manifest, user),
    }


def _answer(manifest: Manifest, status: int = 200):
    user = g.get("api_user")
    body = manifest_json(manifest, user) if user is not None else {
        "id": manifest.id, "number": manifest.number, "status": manifest.status}
    return jsonify(body), status


@bp.post(f"/orders/<{ID}:order_id>/manifests")
@idempotent
def create_manifest(order_id: int):
    """Draft a manifest for one vehicle trip of a funded order.
    ---
    post:
      tags: [manifests]
      summary: Draft a manifest
      description: >
        The generator of a `funded` (or `in_transfer`) order. The carrier must be a verified
        carrier organisation with a dangerous-goods transport permit valid on the planned pickup
        day; the plate a Chinese plate (粤B12345, new-energy 粤BD12345 or 粤B12345D, trailer
        粤B1234挂); the phone a mainland mobile number. Lines default to the order's waste. The
        order's manifests together may carry at most the contract quantity plus its tolerance.
        An attempt for an order that is not funded is refused and raises an oversight alert.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ManifestRequest'}
      responses:
        201:
          description: The manifest, in draft
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Manifest'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    manifest = lifecycle.create_manifest(api_user(), order_id, json_body())
    return _answer(manifest, 201)


@bp.get(f"/manifests/<{ID}:manifest_id>")
def get_manifest(manifest_id: int):
    """One manifest with its three parts, signatures, weights and what the caller may do now.
    ---
    get:
      tags: [manifests]
      summary: A manifest
      description: >
        Visible to its generator, carrier and receiving operator, platform staff, and regulators
        whose scope covers the generator's, the pickup or the operator's region.
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The manifest
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Manifest'}
        401: Unauthorized
        404: NotFound
    """
    user = api_user()
    manifest, _roles = visible_manifest(user, manifest_id)
    return jsonify(manifest_json(manifest, user))


@bp.post(f"/manifests/<{ID}:manifest_id>/sign")
@idempotent
def sign_manifest(manifest_id: int):
    """Sign a pickup part: by login as generator or carrier, or with the driver's one-time code.
    ---
    post:
      tags: [manifests]
      summary: Sign at pickup
      description: >
        `{role: generator | carrier}` needs a token and signs that part as the caller.
        `{driver_code}` needs no token: the six-digit code sent to the driver signs the carrier
        part (once, within 15 minutes, at most five wrong tries). When both pickup parts are
        signed the manifest is `shipped` and they lock; the order moves to `in_transfer`.
      security: [{bearer: []}, {}]
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                role: {type: string, enum: [generator, carrier]}
                driver_code: {type: string, pattern: '^[0-9]{6}$'}
      responses:
        200:
          description: The manifest (without a token, only its id, number and status)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Manifest'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    code = body.get("driver_code")
    if code is not None:
        if not isinstance(code, str):
            raise ValidationFailed(_("Enter the six-digit code."), field="driver_code")
        manifest = lifecycle.sign_manifest(None, manifest_id, driver_code=code,
                                          ip=request.remote_addr)
        return _answer(manifest)
    user = g.get("api_user")
    if user is None:
        raise Unauthenticated(_("Send an API token, or sign with the driver's code."))
    manifest = lifecycle.sign_manifest(user, manifest_id, role=body.get("role"),
                                      ip=request.remote_addr)
    return _answer(manifest)


@bp.post(f"/manifests/<{ID}:manifest_id>/driver-code")
@idempotent
def driver_code(manifest_id: int):
    """Send the driver a one-time code to sign the carrier part without a login.
    ---
    post:
      tags: [manifests]
      summary: Send a driver code
      description: >
        The carrier, while its part is unsigned. The code goes by e-mail to `send_to`, or to the
        driver e-mail on the manifest; a new code replaces any earlier one.
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                send_to: {type: string, format: email}
      responses:
        200:
          description: When the code expires
          content:
            application/json:
              schema: {$ref: '#/components/schemas/DriverCode'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = request.get_json(force=True, silent=True) or {}
    send_to = body.get("send_to") if isinstance(body, dict) else None
    if send_to is not None and not isinstance(send_to, str):
        raise ValidationFailed(_("Enter a valid e-mail address."), field="send_to")
    row = signing.request_driver_code(api_user(), manifest_id, send_to)
    return jsonify(expires_at=_iso(row.expires_at), sent_to=row.sent_to)


@bp.post(f"/manifests/<{ID}:manifest_id>/receive")
@idempotent
def receive_manifest(manifest_id: int):
    """The receiving operator records kg received and refused per line and signs.
    ---
    post:
      tags: [manifests]
      summary: Receive a manifest
      description: >
        Every line once; `refused_kg` is required (0 allowed); received at most sent + 20 %;
        weights are non-negative integers. The method must be one the order's licence item
        allows. A line received more than the tolerance (5 %) off what was sent, or with refused
        kg, opens a discrepancy and needs a `comment`. When every manifest of the order is
        received, the order is `received`.
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ReceiveRequest'}
      responses:
        200:
          description: The manifest, received
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Manifest'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    manifest = lifecycle.receive_manifest(api_user(), manifest_id, body.get("method_code"),
                                         body.get("lines"), ip=request.remote_addr)
    return _answer(manifest)


def _evidence(raw) -> list[tuple[object, str]]:
    if raw in (None, []):
        return []
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
        files.append((io.BytesIO(data), str(item.get("name") or "evidence")[:200]))
    return files


@bp.post(f"/manifests/<{ID}:manifest_id>/discrepancies/<{ID}:line_id>")
@idempotent
def answer_discrepancy(manifest_id: int, line_id: int):
    """The generator confirms or disputes the receiver's weights on a line.
    ---
    post:
      tags: [manifests]
      summary: Confirm or dispute a discrepancy
      description: >
        `confirm` accepts the receiver's weights. `dispute` (with a comment, and evidence files
        as `[{name, content_base64}]`) takes the order to the dispute desk, once every manifest
        of the order is received; settlement waits for an admin's decision.
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
        - {name: line_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [action]
              properties:
                action: {type: string, enum: [confirm, dispute]}
                comment: {type: string, maxLength: 2000}
                evidence:
                  type: array
                  items:
                    type: object
                    properties:
                      name: {type: string}
                      content_base64: {type: string, format: byte}
      responses:
        200:
          description: The discrepancy
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Discrepancy'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    comment = body.get("comment") or ""
    if not isinstance(comment, str):
        raise ValidationFailed(_("%(field)s must be a string.", field="comment"), field="comment")
    d = lifecycle.decide_discrepancy(api_user(), manifest_id, line_id, body.get("action"), comment,
                                    _evidence(body.get("evidence")))
    return jsonify(line_id=d.manifest_line_id, kind=d.kind, status=d.status,
                   dispute_id=d.dispute_id, sent_kg=d.sent_kg, received_kg=d.received_kg,
                   refused_kg=d.refused_kg)


@bp.post(f"/manifests/<{ID}:manifest_id>/cancel")
@idempotent
def cancel_manifest(manifest_id: int):
    """Cancel a manifest before it ships.
    ---
    post:
      tags: [manifests]
      summary: Cancel a manifest
      description: The generator (or an admin), only while the manifest is a draft.
      parameters:
        - {name: manifest_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                reason: {type: string, maxLength: 1000}
      responses:
        200:
          description: The manifest, cancelled
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Manifest'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    body = request.get_json(force=True, silent=True) or {}
    reason = body.get("reason") if isinstance(body, dict) else ""
    manifest = lifecycle.cancel_manifest(api_user(), manifest_id,
                                        reason if isinstance(reason, str) else "")
    return _answer(manifest)
