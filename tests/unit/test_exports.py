"""Report exports: formula-looking text neutralised in CSV and XLSX; numbers stay numbers."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from market.reconciliation.exports import neutralise, to_csv, to_xlsx

ROWS = [["=HYPERLINK(\"http://x\")", -5, "+1", "@SUM(A1)", "-2", "normal", "\tx", None]]


def test_neutralise():
    assert [neutralise(v) for v in ROWS[0]] == ["'=HYPERLINK(\"http://x\")", -5, "'+1",
                                                "'@SUM(A1)", "'-2", "normal", "'\tx", None]


def test_csv_and_xlsx_carry_no_formula():
    text = to_csv(["a"] * 8, ROWS).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",-5," in text and "'@SUM" in text
    ws = load_workbook(io.BytesIO(to_xlsx("r", ["a"] * 8, ROWS))).active
    values = [c.value for c in list(ws.rows)[1]]
    assert values[0] == "'=HYPERLINK(\"http://x\")" and values[1] == -5
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for v in values)
