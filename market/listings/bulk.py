"""Bulk import of disposal requests from CSV or XLSX (generators with many sites).

One row is one request with the columns of TEMPLATE_COLUMNS (docs/bulk-import.md; a template to
download is built by template_csv / template_xlsx). Every row is checked with the same rules as a
request posted one by one (services._clean); nothing is imported while any row is wrong unless
the user asks for the valid rows only. The upload carries a batch id chosen by the client (the web
form makes one when it is shown): the first import of a batch is kept, and sending the same batch
again creates nothing and answers with what the first one did.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import openpyxl
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.errors import DomainError, ValidationFailed
from market.listings import services
from market.listings import validation as v
from market.listings.models import ImportBatch
from market.uow import transaction

TEMPLATE_COLUMNS = services.REQUEST_FIELDS
REQUIRED_COLUMNS = ("category", "description", "form", "packaging", "quantity_kg", "region_code",
                    "address", "window_start", "window_end")
EXAMPLE_ROW = {"category": "HW08", "waste_code": "900-214-08", "description": "废矿物油，200 L 铁桶装",
               "form": "liquid", "packaging": "200 L 铁桶", "hazards": "T,I", "quantity_kg": "5000",
               "region_code": "440306", "address": "深圳市宝安区某路1号", "window_start": "2027-01-10",
               "window_end": "2027-02-10", "method_group": "R", "requires_sampling": "no",
               "budget_fen": "", "recurring": "none"}
MAX_ROWS = 1000
MAX_BATCH_ID = 100
_TRUE = {"yes", "y", "true", "1", "是"}
_FALSE = {"no", "n", "false", "0", "否", ""}


@dataclass
class RowError:
    line: int
    field: str | None
    message: str


@dataclass
class ImportResult:
    batch_id: str
    status: str                      # imported | rejected | already_imported
    rows: int
    created: list[dict] = field(default_factory=list)   # [{line, id, number}]
    errors: list[RowError] = field(default_factory=list)


# --- reading a file -----------------------------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(filename: str, data: bytes) -> list[list[str]]:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            from_xlsx = _xlsx_rows(data)
        except Exception:
            raise ValidationFailed(_("The file is not a readable XLSX workbook."), field="file") from None
        return from_xlsx
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationFailed(_("Save the CSV file as UTF-8."), field="file") from None
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationFailed(_("Upload a .csv or .xlsx file."), field="file")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        return [[_cell(c) for c in row] for _n, row in zip(range(MAX_ROWS + 2), ws.iter_rows(values_only=True))]
    finally:
        wb.close()


def read_rows(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(line number, {column: text}) for each non-empty row under the header row."""
    table = _table(filename, data)
    if not table:
        raise ValidationFailed(_("The file is empty."), field="file")
    header = [h.strip().lower() for h in table[0]]
    unknown = [h for h in header if h and h not in TEMPLATE_COLUMNS]
    if unknown:
        raise ValidationFailed(_("Unknown column %(c)s; use the columns of the template.",
                                 c=unknown[0]), field="file")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(_("Column %(c)s is missing; use the columns of the template.",
                                 c=missing[0]), field="file")
    rows = [(n, dict(zip(header, cells))) for n, cells in enumerate(table[1:], start=2)
            if any(c.strip() for c in cells)]
    if not rows:
        raise ValidationFailed(_("The file has no rows under its header."), field="file")
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(_("At most %(n)d rows per file.", n=MAX_ROWS), field="file")
    return rows


def _int(text: str, name: str) -> int | None:
    if text == "":
        return None
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise ValidationFailed(_("%(field)s must be a whole number.", field=name), field=name) from None


def _date(text: str, name: str) -> date | None:
    if text == "":
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationFailed(_("%(field)s must be a date like 2027-01-31.", field=name),
                               field=name) from None


def request_data(row: dict) -> dict:
    """A row's text as the values the request use case takes (types checked, rules not yet)."""
    flag = row.get("requires_sampling", "").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise ValidationFailed(_("requires_sampling must be yes or no."), field="requires_sampling")
    hazards = [h.strip() for h in row.get("hazards", "").replace(";", ",").replace(" ", ",").split(",")]
    return {
        "category": row.get("category") or None, "waste_code": row.get("waste_code") or None,
        "description": row.get("description", ""), "form": row.get("form") or None,
        "packaging": row.get("packaging", ""), "hazards": [h for h in hazards if h],
        "quantity_kg": _int(row.get("quantity_kg", ""), "quantity_kg"),
        "region_code": row.get("region_code") or None, "address": row.get("address", ""),
        "window_start": _date(row.get("window_start", ""), "window_start"),
        "window_end": _date(row.get("window_end", ""), "window_end"),
        "method_group": row.get("method_group") or None, "requires_sampling": flag in _TRUE,
        "budget_fen": _int(row.get("budget_fen", ""), "budget_fen"),
        "recurring": row.get("recurring") or "none",
    }


# --- the use case -------------------------------------------------------------------------------

def _batch_result(batch: ImportBatch) -> ImportResult:
    return ImportResult(batch_id=batch.batch_id, status="already_imported", rows=batch.rows,
                        created=list(batch.created), errors=[RowError(**e) for e in batch.errors])


def _check_batch_id(batch_id) -> str:
    batch_id = (batch_id or "").strip() if isinstance(batch_id, str) else ""
    if not batch_id or len(batch_id) > MAX_BATCH_ID or "\x00" in batch_id:
        raise ValidationFailed(_("Give the upload a batch id of at most %(n)d characters; "
                                 "sending the same batch again then creates nothing twice.",
                                 n=MAX_BATCH_ID), field="batch_id")
    return batch_id


def import_requests(actor: User, batch_id, filename: str, data: bytes, *,
                    valid_rows_only: bool = False) -> ImportResult:
    """Validate every row; import all (or, when asked, the valid ones) once per batch id."""
    batch_id = _check_batch_id(batch_id)
    with transaction():
        v.require_verified(actor, "generator")
        done = db.session.scalar(select(ImportBatch).where(ImportBatch.org_id == actor.org_id,
                                                           ImportBatch.batch_id == batch_id))
        if done is not None:
            return _batch_result(done)
        rows = read_rows(filename, data)
        good, errors = [], []
        for line, row in rows:
            try:
                values = request_data(row)
                services._clean(values)
            except DomainError as exc:
                errors.append(RowError(line, exc.field, exc.message))
            else:
                good.append((line, values))
        result = ImportResult(batch_id=batch_id, status="imported", rows=len(rows), errors=errors)
        if errors and not valid_rows_only:
            result.status = "rejected"
            return result
        # The batch row first: a concurrent upload of the same batch waits here, then finds it.
        claimed = db.session.execute(insert(ImportBatch).values(
            org_id=actor.org_id, batch_id=batch_id, created_by=actor.id, filename=filename[:200],
            rows=len(rows), created=[], errors=[e.__dict__ for e in errors])
            .on_conflict_do_nothing().returning(ImportBatch.id)).scalar()
        if claimed is None:
            return _batch_result(db.session.scalar(select(ImportBatch).where(
                ImportBatch.org_id == actor.org_id, ImportBatch.batch_id == batch_id)))
        for line, values in good:
            req = services.create_request(actor, **values)
            result.created.append({"line": line, "id": req.id, "number": req.number})
        batch = db.session.get(ImportBatch, claimed)
        batch.created = result.created
        record("request.imported", batch, actor=actor, changes={
            "batch_id": batch_id, "rows": len(rows), "created": len(result.created),
            "skipped": len(errors)})
        return result


# --- the template -------------------------------------------------------------------------------

def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow([EXAMPLE_ROW[c] for c in TEMPLATE_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "requests"
    ws.append(list(TEMPLATE_COLUMNS))
    ws.append([EXAMPLE_ROW[c] for c in TEMPLATE_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
