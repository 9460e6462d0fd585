"""API routes of payouts: the payee's bank account on file; finance's payout queue and batches
(build, read, the bank file, a return). Batches are for finance staff (admins read them)."""
from __future__ import annotations

import secrets

from flask import Response, jsonify
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotency_key, idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, require_str
from market.errors import NotFound
from market.orders import settling
from market.settlement import bank_accounts, batches, payout_queries


def _account_json(account) -> dict:
    if account is None:
        return {"account": None}
    return {"account": {"id": account.id, "account_name": account.account_name,
                        "bank_name": account.bank_name, "account_number": account.masked,
                        "status": account.status, "reason": account.reason}}


def _tenant():
    user = api_user()
    if user.is_platform or user.is_regulator:
        raise NotFound(_("Platform staff and regulators have no bank account on file."))
    return user


@bp.get("/bank-account")
def get_bank_account():
    """The bank account your organisation is paid to (number masked).
    ---
    get:
      tags: [settlement]
      summary: Bank account on file
      responses:
        200:
          description: The account, or null when none is on file
          content:
            application/json:
              schema: {$ref: '#/components/schemas/BankAccountOnFile'}
        401: Unauthorized
        404: NotFound
    """
    return jsonify(_account_json(bank_accounts.account_of(_tenant().org_id)))


@bp.put("/bank-account")
@idempotent
def put_bank_account():
    """Set your organisation's bank account (organisation administrators).
    ---
    put:
      tags: [settlement]
      summary: Set the bank account
      description: >
        The account number is digits only (spaces and dashes are ignored), 8 to 30 of them.
        A changed account is `unverified` until a platform administrator verifies it; nothing
        is paid out to an unverified account.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/BankAccountRequest'}
      responses:
        200:
          description: The account on file
          content:
            application/json:
              schema: {$ref: '#/components/schemas/BankAccountOnFile'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        422: ValidationFailed
    """
    user = _tenant()
    body = json_body()
    account = bank_accounts.set_account(
        user, require_str(body, "account_name", 200), require_str(body, "bank_name", 200),
        require_str(body, "account_number", 60))
    return jsonify(_account_json(account))


@bp.get("/finance/payout-queue")
def payout_queue():
    """Who is owed what, what the next batch pays, what is out, what came back.
    ---
    get:
      tags: [finance]
      summary: Payout queue
      description: Finance staff and admins.
      responses:
        200:
          description: The payout queue
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PayoutQueue'}
        401: Unauthorized
        403: Forbidden
    """
    batches.require_finance(api_user(), admin_reads=True)
    return jsonify(payout_queries.queue().as_json())


@bp.get("/finance/payout-batches")
def list_batches():
    """Recent payout batches, newest first.
    ---
    get:
      tags: [finance]
      summary: Payout batches
      description: Finance staff and admins.
      responses:
        200:
          description: The batches with their lines
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: '#/components/schemas/PayoutBatch'}}
        401: Unauthorized
        403: Forbidden
    """
    batches.require_finance(api_user(), admin_reads=True)
    return jsonify(items=[payout_queries.batch_json(b) for b in batches.recent()])


@bp.post("/finance/payout-batches")
@idempotent
def build_batch():
    """Build and send a payout batch of every organisation due a payout.
    ---
    post:
      tags: [finance]
      summary: Build a payout batch
      description: >
        Finance staff only. One line per organisation owed at least `PAYOUT_MINIMUM_FEN` with a
        verified bank account (a line of the bank file, booked Dr payable / Cr clearing:bank) or
        a Stripe Connect account (a Connect transfer). Nothing due is a 409 and builds nothing;
        an organisation is never in two batches for the same money.
      parameters:
        - IdempotencyKey
      responses:
        201:
          description: The batch
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PayoutBatch'}
        401: Unauthorized
        403: Forbidden
        409: Conflict
    """
    user = api_user()
    key = idempotency_key() or secrets.token_hex(16)
    batch = settling.build_payout_batch(user, f"api:{user.id}:{key}")
    return jsonify(payout_queries.batch_json(batch)), 201


@bp.get("/finance/payout-batches/<int:batch_id>")
def get_batch(batch_id):
    """One payout batch with its lines and their status.
    ---
    get:
      tags: [finance]
      summary: A payout batch
      parameters:
        - {name: batch_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The batch
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PayoutBatch'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    batches.require_finance(api_user(), admin_reads=True)
    return jsonify(payout_queries.batch_json(batches.batch(batch_id)))


@bp.get("/finance/payout-batches/<int:batch_id>/file")
def get_batch_file(batch_id):
    """The bank's bulk payment file of a batch (CSV, layout in docs/payout-batch.md).
    ---
    get:
      tags: [finance]
      summary: Payout batch bank file
      parameters:
        - {name: batch_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The CSV file
          content:
            text/csv:
              schema: {type: string}
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    batches.require_finance(api_user(), admin_reads=True)
    batch = batches.batch(batch_id)
    return Response(batch.file_csv.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={batch.file_name}"})


@bp.post("/finance/payout-lines/<int:line_id>/returned")
@idempotent
def return_line(line_id):
    """Record that the bank returned a bank payout line.
    ---
    post:
      tags: [finance]
      summary: Mark a payout returned
      description: >
        Finance staff only. Posts Dr clearing:bank / Cr payable (the payable reappears), flags
        the payee's bank account for correction and tells the payee. A returned line is a 409.
      parameters:
        - IdempotencyKey
        - {name: line_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [reason]
              properties: {reason: {type: string, maxLength: 500}}
      responses:
        200:
          description: The batch of the line
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PayoutBatch'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    line = batches.mark_returned(api_user(), line_id, require_str(body, "reason", 500))
    return jsonify(payout_queries.batch_json(line.batch))


_I = {"type": "integer"}
_S = {"type": "string"}
_N = {"type": "string", "nullable": True}
SCHEMAS["BankAccountRequest"] = {
    "type": "object", "required": ["account_name", "bank_name", "account_number"],
    "properties": {"account_name": {**_S, "maxLength": 200},
                   "bank_name": {**_S, "maxLength": 200, "example": "中国工商银行深圳分行"},
                   "account_number": {**_S, "maxLength": 60, "example": "6222 0200 1234 5678"}}}
SCHEMAS["BankAccountOnFile"] = {
    "type": "object", "required": ["account"],
    "properties": {"account": {"type": "object", "nullable": True, "properties": {
        "id": _I, "account_name": _S, "bank_name": _S,
        "account_number": {**_S, "description": "Masked: only the last four digits"},
        "status": {**_S, "enum": ["unverified", "verified", "rejected", "returned"]},
        "reason": _N}}}}
SCHEMAS["PayoutQueue"] = {
    "type": "object",
    "properties": {"minimum_fen": _I, "due_fen": _I, "in_batch_fen": _I, "in_batch_count": _I,
                   "returned_fen": _I,
                   "owed": {"type": "array", "items": {"type": "object", "properties": {
                       "org_id": _I, "name": _S, "owed_fen": _I,
                       "state": {**_S, "enum": ["due", "below_minimum", "no_verified_account",
                                                "on_the_way"]},
                       "gateway": _S}}},
                   "returned": {"type": "array", "items": {"type": "object", "properties": {
                       "line_id": _I, "batch_id": _I, "org_id": _I, "reference": _S,
                       "amount_fen": _I, "reason": _N}}}}}
SCHEMAS["PayoutBatch"] = {
    "type": "object", "required": ["id", "lines"],
    "properties": {"id": _I, "sent_at": {**_S, "format": "date-time"}, "minimum_fen": _I,
                   "total_fen": _I, "line_count": _I, "file_name": _S,
                   "lines": {"type": "array", "items": {"type": "object", "properties": {
                       "id": _I, "org_id": _I, "organisation": _S,
                       "gateway": {**_S, "enum": ["bank", "stripe"]}, "amount_fen": _I,
                       "reference": {**_S, "description": "Quoted on the bank statement"},
                       "account_number": _S,
                       "status": {**_S, "enum": ["queued", "sent", "paid", "returned",
                                                 "failed"]},
                       "transfer_id": _N, "paid_at": _N, "returned_at": _N,
                       "return_reason": _N}}}}}
