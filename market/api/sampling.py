"""API routes of sampling: send an order to a lab, the lab's steps and results, the price gate.

Who sees a sampling order: the two parties of its order, the lab it was sent to, platform staff,
and regulators of its order's region (generator's, pickup or operator's) or of the lab's region;
anyone else gets a 404.
"""
from __future__ import annotations

import base64
import binascii

from flask import jsonify
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, optional_str, require_bool, require_date, require_int, require_str
from market.errors import ValidationFailed
from market.orders import lifecycle
from market.sampling import gate, reporting, services
from market.sampling.analytes import ANALYTES, display
from market.sampling.models import SamplingOrder
from market.sampling.queries import flag_message, result_flags, visible_sampling
from market.sampling.state import FEE_STATUSES, SAMPLING_STATUSES

ID = "int(max=2147483647)"
MAX_FEN = 10**13


def sampling_json(so: SamplingOrder) -> dict:
    return {"id": so.id, "number": so.number, "order_id": so.order_id, "lab_org_id": so.lab_id,
            "analytes": list(so.analytes), "status": so.status, "fee_fen": so.fee_fen,
            "fee_status": so.fee_status,
            "collected_on": so.collected_on.isoformat() if so.collected_on else None,
            "sampler": so.sampler, "custody_number": so.custody_number,
            "report_sha256": so.report_sha256,
            "results": [{"analyte": r.analyte, "value": display(r.value), "unit": r.unit,
                         "method": r.method} for r in so.results],
            "flags": [{"analyte": f.analyte, "rule": f.rule, "message": flag_message(f)}
                      for f in result_flags(so)],
            "price_decision": so.price_decision,
            "confirmed_price_fen_per_t": so.confirmed_price_fen_per_t,
            "generator_response": so.generator_response}


def _analytes(body: dict) -> list:
    value = body.get("analytes")
    if not isinstance(value, list):
        raise ValidationFailed(_("%(field)s must be a list of analyte codes.", field="analytes"),
                               field="analytes")
    return value


@bp.post(f"/orders/<{ID}:order_id>/sampling")
@idempotent
def request_sampling(order_id: int):
    """Send an order's waste to an accredited lab (a party of an order in `sampling`).
    ---
    post:
      tags: [sampling]
      summary: Request a sampling test
      description: >
        The lab must be verified and hold a CMA accreditation valid today (else 403
        `lab_not_accredited`), and be neither party. `analytes` are codes from: ph,
        calorific_value, halogens, sulphur, water, flash_point, Pb, Cd, Cr, Hg, As, Ni, Cu, Zn.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SamplingRequest'}
      responses:
        201:
          description: The sampling order, requested
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SamplingOrder'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    lab_id = require_int(body, "lab_org_id", 1, 2**31 - 1)
    so = services.request_sampling(api_user(), order_id, lab_org_id=lab_id, analytes=_analytes(body))
    return jsonify(sampling_json(so)), 201


@bp.get(f"/sampling/<{ID}:sampling_id>")
def get_sampling(sampling_id: int):
    """One sampling order with its results and flags.
    ---
    get:
      tags: [sampling]
      summary: A sampling order
      parameters:
        - {name: sampling_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The sampling order
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SamplingOrder'}
        401: Unauthorized
        404: NotFound
    """
    so, _role = visible_sampling(api_user(), sampling_id)
    return jsonify(sampling_json(so))


@bp.post(f"/sampling/<{ID}:sampling_id>/accept")
@idempotent
def accept_sampling(sampling_id: int):
    """The lab accepts at its fee (integer fen), which becomes an order line due to the lab.
    ---
    post:
      tags: [sampling]
      summary: Accept a sampling order (lab)
      parameters:
        - {name: sampling_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [fee_fen], properties: {fee_fen: {type: integer, minimum: 0}}}
      responses:
        200:
          description: The sampling order, accepted
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SamplingOrder'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    fee = require_int(body, "fee_fen", 0, MAX_FEN)
    return jsonify(sampling_json(services.lab_accept(api_user(), sampling_id, fee_fen=fee)))


@bp.post(f"/sampling/<{ID}:sampling_id>/collect")
@idempotent
def collect_sample(sampling_id: int):
    """The lab records the sampling: date, sampler, chain-of-custody number.
    ---
    post:
      tags: [sampling]
      summary: Record the sampling (lab)
      parameters:
        - {name: sampling_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [collected_on, sampler, custody_number]
              properties:
                collected_on: {type: string, format: date}
                sampler: {type: string, maxLength: 100}
                custody_number: {type: string, maxLength: 60}
      responses:
        200:
          description: The sampling order, sample collected
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SamplingOrder'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    so = services.lab_collect(api_user(), sampling_id, collected_on=require_date(body, "collected_on"),
                              sampler=require_str(body, "sampler", 100),
                              custody_number=require_str(body, "custody_number", 60))
    return jsonify(sampling_json(so))


def _results(body: dict) -> dict:
    value = body.get("results")
    if not isinstance(value, list) or not value:
        raise ValidationFailed(_("%(field)s must be a list of {analyte, value, unit, method}.",
                                 field="results"), field="results")
    out: dict = {}
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("analyte"), str):
            raise ValidationFailed(_("Each result names its analyte."), field="results")
        if isinstance(entry.get("value"), bool) or not isinstance(entry.get("value"), (int, float, str)):
            raise ValidationFailed(_("%(analyte)s must be a number.", analyte=entry["analyte"]),
                                   field=f"results.{entry['analyte']}")
        out[entry["analyte"]] = {"value": str(entry["value"]), "unit": entry.get("unit"),
                                 "method": entry.get("method") if isinstance(entry.get("method"), str) else ""}
    return out


def _report(body: dict) -> bytes:
    raw = require_str(body, "report_pdf_base64", 20_000_000, strip=False)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("%(field)s must be base64.", field="report_pdf_base64"),
                               field="report") from None


@bp.post(f"/sampling/<{ID}:sampling_id>/results")
@idempotent
def report_results(sampling_id: int):
    """The lab reports structured results with the signed report PDF.
    ---
    post:
      tags: [sampling]
      summary: Report results (lab)
      description: >
        One result per requested analyte. Values must be physically possible (pH 0–14,
        percentages 0–100, concentrations ≥ 0 mg/kg, flash point −50..400 °C, calorific value
        0–60 MJ/kg), else 422 `out_of_range` naming `results.<analyte>`. The report must be a PDF
        by its content (422 `not_a_pdf`).
      parameters:
        - {name: sampling_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SamplingResults'}
      responses:
        200:
          description: The sampling order, reported
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SamplingOrder'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    results, report = _results(body), _report(body)
    so = reporting.report_results(api_user(), sampling_id, results=results, report=report)
    return jsonify(sampling_json(so))


@bp.post(f"/orders/<{ID}:order_id>/price")
@idempotent
def decide_price(order_id: int):
    """The operator confirms the unit price after the results, or declines with a reason.
    ---
    post:
      tags: [sampling]
      summary: Confirm the price or decline (operator)
      description: >
        `{unit_price_fen_per_t}` confirms (a changed price then awaits the generator at
        /orders/{id}/price/answer; an unchanged one goes straight to contract_pending).
        `{decline: reason}` cancels the order and releases the capacity; the lab's fee stays due.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                unit_price_fen_per_t: {type: integer, description: Integer fen per tonne; may be negative}
                decline: {type: string, maxLength: 1000}
      responses:
        200:
          description: The order's new status
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrderStatus'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    action, value = gate.parse_price_body(body)
    if action == "confirm":
        price = require_int(body, "unit_price_fen_per_t", -MAX_FEN, MAX_FEN)
        order = lifecycle.confirm_price(api_user(), order_id, price)
    else:
        order = lifecycle.decline_price(api_user(), order_id, require_str(body, "decline", 1000))
    return jsonify(id=order.id, status=order.status, total_fen=order.total_fen)


@bp.post(f"/orders/<{ID}:order_id>/price/answer")
@idempotent
def answer_price(order_id: int):
    """The generator accepts or rejects a price the operator changed after the results.
    ---
    post:
      tags: [sampling]
      summary: Answer a changed price (generator)
      description: Rejecting cancels the order; the lab's fee stays due.
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [accept]
              properties:
                accept: {type: boolean}
                reason: {type: string, maxLength: 1000}
      responses:
        200:
          description: The order's new status
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrderStatus'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    order = lifecycle.respond_to_price(api_user(), order_id, accept=require_bool(body, "accept"),
                                  reason=optional_str(body, "reason", 1000) or "")
    return jsonify(id=order.id, status=order.status, total_fen=order.total_fen)


_I, _S = {"type": "integer"}, {"type": "string"}
_NS, _NI = {"type": "string", "nullable": True}, {"type": "integer", "nullable": True}
SCHEMAS["SamplingRequest"] = {
    "type": "object", "required": ["lab_org_id", "analytes"],
    "properties": {"lab_org_id": _I, "analytes": {"type": "array", "minItems": 1,
                                                  "items": {"type": "string", "enum": list(ANALYTES)}}}}
SCHEMAS["SamplingResults"] = {
    "type": "object", "required": ["results", "report_pdf_base64"],
    "properties": {
        "results": {"type": "array", "items": {
            "type": "object", "required": ["analyte", "value", "method"],
            "properties": {"analyte": {"type": "string", "enum": list(ANALYTES)},
                           "value": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                           "unit": {"type": "string", "description": "Optional; must be the analyte's unit"},
                           "method": {"type": "string", "maxLength": 100,
                                      "example": "GB/T 15555.12"}}}},
        "report_pdf_base64": {"type": "string", "format": "byte"}}}
SCHEMAS["SamplingOrder"] = {
    "type": "object", "required": ["id", "number", "order_id", "lab_org_id", "analytes", "status"],
    "properties": {
        "id": _I, "number": _S, "order_id": _I, "lab_org_id": _I,
        "analytes": {"type": "array", "items": _S},
        "status": {"type": "string", "enum": list(SAMPLING_STATUSES)}, "fee_fen": _NI,
        "fee_status": {"type": "string", "nullable": True, "enum": list(FEE_STATUSES)},
        "collected_on": {**_NS, "format": "date"}, "sampler": _NS, "custody_number": _NS,
        "report_sha256": _NS,
        "results": {"type": "array", "items": {"type": "object", "properties": {
            "analyte": _S, "value": _S, "unit": _S, "method": _S}}},
        "flags": {"type": "array", "items": {"type": "object", "properties": {
            "analyte": _S, "rule": _S, "message": _S}}},
        "price_decision": _NS, "confirmed_price_fen_per_t": _NI, "generator_response": _NS}}
SCHEMAS["OrderStatus"] = {"type": "object", "required": ["id", "status"],
                          "properties": {"id": _I, "status": _S, "total_fen": _I}}
