"""API routes of reconciliation: import a statement, run matching, list exceptions, close a day.
Finance staff and admins only, like the desk at /finance/reconciliation."""
from __future__ import annotations

import base64
import binascii

from flask import jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS
from market.api.parsing import json_body, require_date, require_str
from market.errors import PermissionDenied, ValidationFailed
from market.reconciliation import close, imports, queries, uploads
from market.reconciliation import jobs as recon


def _staff() -> None:
    if api_user().platform_role not in ("finance", "admin"):
        raise PermissionDenied(_("Only platform finance staff reconcile statements."))


@bp.post("/finance/statements")
@idempotent
def import_statement():
    """Import a bank statement file (CSV, MT940, camt.053/054), whole or not at all.
    ---
    post:
      tags: [finance]
      summary: Import a bank statement
      description: >
        Finance staff and admins. `content_base64` is the file as uploaded; its format is
        recognised from the content. A malformed, truncated or unbalanced file is refused (422)
        naming the line or element; the same file, or a transaction already imported, is a 409.
        A file above RECON_JOB_LINES lines or RECON_JOB_BYTES bytes is imported and matched by a
        job: the answer is 202 with its progress, followed at /finance/statements/progress.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/StatementUpload'}
      responses:
        201:
          description: What was imported
          content:
            application/json:
              schema: {$ref: '#/components/schemas/StatementImport'}
        202:
          description: A large file, queued for the import job
          content:
            application/json:
              schema: {$ref: '#/components/schemas/StatementUploadProgress'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    _staff()
    body = json_body()
    filename = require_str(body, "filename", 200)
    try:
        data = base64.b64decode(require_str(body, "content_base64", 70_000_000), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(_("%(field)s must be base64.", field="content_base64"),
                               field="content_base64") from None
    if uploads.needs_job(data):
        up = recon.queue_upload(api_user(), filename=filename, data=data)
        return jsonify(uploads.progress(up)), 202
    imp = imports.import_statement(api_user(), filename=filename, data=data)
    return jsonify(id=imp.id, format=imp.format, lines=imp.line_count,
                   opening_fen=imp.opening_fen, closing_fen=imp.closing_fen,
                   skipped=imports.skipped_notes(imp.skipped)), 201


@bp.get("/finance/statements/progress")
def statement_progress():
    """How far the job importing a large statement file has got.
    ---
    get:
      tags: [finance]
      summary: Progress of a large statement import
      parameters:
        - {name: upload_id, in: query, required: true, schema: {type: integer}}
      responses:
        200:
          description: The upload's phase, percent and line counts; the refusal once failed
          content:
            application/json:
              schema: {$ref: '#/components/schemas/StatementUploadProgress'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
    """
    _staff()
    raw = (request.args.get("upload_id") or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(_("%(field)s must be a whole number.", field="upload_id"),
                               field="upload_id")
    return jsonify(uploads.progress(uploads.get(int(raw))))


@bp.post("/finance/reconciliation/run")
@idempotent
def run_matching():
    """Match every unmatched statement line and ledger entry of the bank.
    ---
    post:
      tags: [finance]
      summary: Run matching
      description: Running it again changes nothing. Returns the outcome counts.
      parameters:
        - IdempotencyKey
      responses:
        200:
          description: Outcomes by kind
          content:
            application/json:
              schema: {type: object, additionalProperties: {type: integer}}
        401: Unauthorized
        403: Forbidden
    """
    _staff()
    counts: dict[str, int] = {}
    for o in recon.run_matching(api_user()):
        counts[o.kind] = counts.get(o.kind, 0) + 1
    return jsonify(counts)


@bp.get("/finance/reconciliation/exceptions")
def open_exceptions():
    """Open reconciliation exceptions, oldest first.
    ---
    get:
      tags: [finance]
      summary: Open exceptions
      responses:
        200:
          description: The exceptions desk
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: '#/components/schemas/ReconException'}}
        401: Unauthorized
        403: Forbidden
    """
    _staff()
    return jsonify(items=[{
        "id": it.exc.id, "kind": it.exc.kind, "day": it.exc.day.isoformat(),
        "amount_fen": it.exc.amount_fen, "age_days": it.age_days, "detail": it.exc.detail,
        "suggested_entry_ids": [s.id for s in it.suggested]} for it in queries.open_exceptions()])


@bp.post("/finance/reconciliation/close")
@idempotent
def close_day():
    """Close a day: clearing:bank against the statement's balance at that day's end.
    ---
    post:
      tags: [finance]
      summary: Close a day
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [day], properties: {day: {type: string, format: date}}}
      responses:
        200:
          description: The day's status (waiting, balanced or different)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ReconDay'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    _staff()
    row = close.close_day(api_user(), "bank", require_date(json_body(), "day"))
    return jsonify(day=row.day.isoformat(), status=row.status, ledger_fen=row.ledger_fen,
                   statement_fen=row.statement_fen)


_S, _I = {"type": "string"}, {"type": "integer"}
SCHEMAS["StatementUpload"] = {"type": "object", "required": ["filename", "content_base64"],
                              "properties": {"filename": _S, "content_base64": _S}}
SCHEMAS["StatementImport"] = {
    "type": "object", "required": ["id", "format", "lines"],
    "properties": {"id": _I, "format": _S, "lines": _I,
                   "opening_fen": {**_I, "nullable": True}, "closing_fen": {**_I, "nullable": True},
                   "skipped": {"type": "array", "items": _S}}}
SCHEMAS["ReconException"] = {
    "type": "object", "required": ["id", "kind", "day", "amount_fen", "age_days"],
    "properties": {"id": _I, "kind": _S, "day": {**_S, "format": "date"}, "amount_fen": _I,
                   "age_days": _I, "detail": _S,
                   "suggested_entry_ids": {"type": "array", "items": _I}}}
SCHEMAS["ReconDay"] = {
    "type": "object", "required": ["day", "status", "ledger_fen"],
    "properties": {"day": {**_S, "format": "date"}, "status": _S, "ledger_fen": _I,
                   "statement_fen": {**_I, "nullable": True}}}
SCHEMAS["StatementUploadProgress"] = {
    "type": "object", "required": ["id", "phase", "percent", "finished"],
    "properties": {"id": _I, "filename": _S, "phase": _S, "percent": _I, "lines_total": _I,
                   "lines_parsed": _I, "lines_matched": _I, "finished": {"type": "boolean"},
                   "import_id": {**_I, "nullable": True}, "error": {**_S, "nullable": True},
                   "skipped": {"type": "array", "items": _S}}}
