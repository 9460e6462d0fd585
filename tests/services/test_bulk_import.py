"""Bulk import of disposal requests: every bad row reported with its line and reason, nothing
imported unless asked for the valid rows, and a batch sent twice creating nothing twice."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.errors import ValidationFailed
from market.listings import bulk
from market.listings.models import DisposalRequest, ImportBatch
from market.listings.validation import today
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def row(**overrides) -> dict:
    base = dict(bulk.EXAMPLE_ROW, window_start=(today() + timedelta(days=7)).isoformat(),
                window_end=(today() + timedelta(days=37)).isoformat())
    return {**base, **overrides}


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=bulk.TEMPLATE_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(bulk.TEMPLATE_COLUMNS))
    for r in rows:
        ws.append([int(r[c]) if c == "quantity_kg" else r[c] for c in bulk.TEMPLATE_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def requests_count() -> int:
    return db.session.scalar(select(func.count()).select_from(DisposalRequest))


@pytest.fixture
def gen():
    return UserFactory(org=OrganisationFactory(types=["generator"]))


MIXED = [row(), row(quantity_kg="-5"), row(description="第三行"), row(category="HW99"),
         row(window_end="2020-01-01"), row(requires_sampling="maybe")]


def test_bad_rows_reported_by_line_and_nothing_imported(gen):
    before = requests_count()
    result = bulk.import_requests(gen, "b-1", "sites.csv", csv_bytes(MIXED))
    assert result.status == "rejected" and result.created == []
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "quantity_kg"), (5, "category"), (6, "window_end"), (7, "requires_sampling")]
    assert "more than 0 kg" in result.errors[0].message
    assert requests_count() == before
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_valid_rows_only_then_the_same_batch_creates_nothing_twice(gen):
    before = requests_count()
    first = bulk.import_requests(gen, "b-2", "sites.xlsx", xlsx_bytes(MIXED), valid_rows_only=True)
    assert first.status == "imported"
    assert [c["line"] for c in first.created] == [2, 4]
    assert len(first.errors) == 4
    assert requests_count() == before + 2
    made = db.session.get(DisposalRequest, first.created[1]["id"])
    assert made.description == "第三行" and made.status == "open" and made.generator_id == gen.org_id
    again = bulk.import_requests(gen, "b-2", "sites.xlsx", xlsx_bytes(MIXED), valid_rows_only=True)
    assert again.status == "already_imported" and again.created == first.created
    assert requests_count() == before + 2


def test_a_clean_file_imports_every_row(gen):
    result = bulk.import_requests(gen, "b-3", "ok.csv", csv_bytes([row(), row(hazards="C")]))
    assert result.status == "imported" and len(result.created) == 2 and not result.errors


@pytest.mark.parametrize("name, data, message", [
    ("x.txt", b"category\nHW08\n", "csv or .xlsx"),
    ("x.csv", b"category,colour\nHW08,red\n", "Unknown column colour"),
    ("x.csv", b"category,description\nHW08,x\n", "Column form is missing"),
    ("x.xlsx", b"not a zip", "not a readable XLSX"),
    ("x.csv", csv_bytes([]), "no rows"),
])
def test_an_unusable_file_is_refused_whole(gen, name, data, message):
    before = requests_count()
    with pytest.raises(ValidationFailed) as info:
        bulk.import_requests(gen, "b-4", name, data)
    assert info.value.field == "file" and message in info.value.message
    assert requests_count() == before


def test_templates_round_trip(gen):
    for name, data in (("t.csv", bulk.template_csv()), ("t.xlsx", bulk.template_xlsx())):
        rows = bulk.read_rows(name, data)
        assert [n for n, _r in rows] == [2] and rows[0][1]["category"] == "HW08"
        assert list(rows[0][1]) == list(bulk.TEMPLATE_COLUMNS)
