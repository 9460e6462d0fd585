"""API routes of bulk request imports: upload a CSV or XLSX of requests, download the template."""
from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.idempotency import idempotent
from market.api.listings import _obj
from market.api.openapi import SCHEMAS
from market.errors import ValidationFailed
from market.listings import bulk

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def result_json(result: bulk.ImportResult) -> dict:
    return {"batch_id": result.batch_id, "status": result.status, "rows": result.rows,
            "created": result.created,
            "errors": [{"line": e.line, "field": e.field, "message": e.message}
                       for e in result.errors]}


@bp.post("/requests/import")
@idempotent
def import_requests():
    """Import disposal requests from a CSV or XLSX file (generator).
    ---
    post:
      tags: [requests]
      summary: Bulk import of requests
      description: >
        `multipart/form-data` with `file` (.csv in UTF-8 or .xlsx, the columns of the template:
        GET /requests/import/template.csv or .xlsx; at most 1000 rows), `batch_id` (your id for
        this upload) and optionally `valid_rows_only=true`. Every row is checked as POST /requests
        checks one request. When a row is wrong nothing is imported (422, each bad row with its
        line, field and reason in `errors`) unless `valid_rows_only` is true, which imports the
        others. Sending the same `batch_id` again creates nothing and answers 200 with what the
        first import did (`status: already_imported`).
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file, batch_id]
              properties:
                file: {type: string, format: binary}
                batch_id: {type: string, maxLength: 100}
                valid_rows_only: {type: boolean, default: false}
      responses:
        201:
          description: Imported (all rows, or the valid ones)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImportResult'}
        200:
          description: This batch was imported before; nothing new was created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImportResult'}
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422:
          description: Rows with errors and nothing imported (`errors` lists them), or a bad file
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImportResult'}
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a .csv or .xlsx file."), field="file")
    flag = (request.form.get("valid_rows_only") or "false").strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise ValidationFailed(_("valid_rows_only must be true or false."), field="valid_rows_only")
    result = bulk.import_requests(api_user(), request.form.get("batch_id"), upload.filename,
                                  upload.read(), valid_rows_only=flag in ("true", "1"))
    status = {"imported": 201, "already_imported": 200, "rejected": 422}[result.status]
    body = result_json(result)
    if result.status == "rejected":
        body["error"] = {"code": "rows_invalid", "field": "file", "message": _(
            "%(n)d of %(total)d rows have errors; nothing was imported.",
            n=len(result.errors), total=result.rows)}
    return jsonify(body), status


@bp.get("/requests/import/template.<any(csv, xlsx):fmt>")
def import_template(fmt: str):
    """The template of a bulk import, with its header row and one example row.
    ---
    get:
      tags: [requests]
      summary: Bulk import template
      parameters:
        - {name: fmt, in: path, required: true, schema: {type: string, enum: [csv, xlsx]}}
      responses:
        200:
          description: The template file
          content:
            text/csv: {schema: {type: string}}
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:
              schema: {type: string, format: binary}
        401: Unauthorized
    """
    data = bulk.template_csv() if fmt == "csv" else bulk.template_xlsx()
    mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(data, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=hazex-requests-template.{fmt}"})


_ROW_ERROR = _obj(["line", "message"], line={"type": "integer"},
                  field={"type": "string", "nullable": True}, message={"type": "string"})
SCHEMAS["ImportResult"] = _obj(
    ["batch_id", "status", "rows", "created", "errors"], batch_id={"type": "string"},
    status={"type": "string", "enum": ["imported", "already_imported", "rejected"]},
    rows={"type": "integer"},
    created={"type": "array", "items": _obj(["line", "id", "number"], line={"type": "integer"},
                                            id={"type": "integer"}, number={"type": "string"})},
    errors={"type": "array", "items": _ROW_ERROR},
    error={"$ref": "#/components/schemas/Error/properties/error"})
