"""The bulk-import page: a generator uploads a CSV or XLSX of requests and reads a report per row.

The form carries a batch id made when the form is shown, so sending it twice (a double click, a
reload) imports nothing twice; "import the valid rows" re-sends the same file with that choice.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from market.errors import DomainError
from market.listings import bulk
from market.web.security import require_org_type

bp = Blueprint("imports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(status: int = 200, batch_id: str | None = None, **ctx):
    # A rejected batch created nothing: re-sending it (fixed, or its valid rows) keeps its id.
    return render_template("listings/import.html", batch_id=batch_id or uuid.uuid4().hex,
                           columns=bulk.TEMPLATE_COLUMNS, required=bulk.REQUIRED_COLUMNS,
                           max_rows=bulk.MAX_ROWS, **ctx), status


@bp.get("/requests/import")
@login_required
@require_org_type("generator")
def index():
    return _page()


@bp.post("/requests/import")
@login_required
@require_org_type("generator")
def upload():
    upload_ = request.files.get("file")
    valid_only = request.form.get("valid_rows_only") == "1"
    try:
        result = bulk.import_requests(current_user, request.form.get("batch_id"),
                                      upload_.filename if upload_ else "",
                                      upload_.read() if upload_ else b"",
                                      valid_rows_only=valid_only)
    except DomainError as exc:
        return _page(422 if exc.field else 403, error=exc)
    if result.status == "rejected":
        return _page(422, batch_id=result.batch_id, result=result)
    return _page(result=result)


def _template(fmt: str) -> Response:
    data = bulk.template_csv() if fmt == "csv" else bulk.template_xlsx()
    mime = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(data, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=hazex-requests-template.{fmt}"})


@bp.get("/requests/import/template.csv")
@login_required
@require_org_type("generator")
def template_csv():
    return _template("csv")


@bp.get("/requests/import/template.xlsx")
@login_required
@require_org_type("generator")
def template_xlsx():
    return _template("xlsx")
