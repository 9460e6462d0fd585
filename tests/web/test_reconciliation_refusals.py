"""A refused statement file says where and why in the reader's language: one refusal per format
(truncated CSV, unbalanced MT940, malformed camt.053, an empty file) on the desk and over the API
(Accept-Language), in Chinese and English; nothing is imported."""
from __future__ import annotations

import base64
import io

import pytest
from sqlalchemy import func, select

from market import db
from market.reconciliation.models import StatementImport, StatementLine
from tests.api.conftest import bearer
from tests.reconciliation_factories import CUSTODY, to_camt053, to_csv, to_mt940
from tests.unit.test_statements import MOVES
from tests.web.marketplace import as_user, text

CSV, MT940, CAMT = to_csv(MOVES), to_mt940(MOVES), to_camt053(MOVES)
assert CUSTODY
BAD = {
    "csv": (CSV[:-20], "cut.csv"),
    "mt940": (MT940.replace(b":62F:C", b":62F:D", 1), "bad.sta"),
    "camt": (CAMT.replace(b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>", b"<CdtDbtInd>XX</CdtDbtInd><Sts>", 1),
             "bad.xml"),
    "empty": (b"", "empty.csv"),
}
SAYS = {
    "en": {"csv": "Statement refused, nothing imported: line 6: expected 9 columns, found 6 "
                  "(truncated or malformed)",
           "mt940": "Statement refused, nothing imported: statement at line 1: balances do not "
                    "add up: opening 0 + lines = ",
           "camt": "Statement refused, nothing imported: Stmt[1]/Ntry[1]: CdtDbtInd 'XX' must be "
                   "CRDT or DBIT",
           "empty": "Statement refused, nothing imported: the file is empty: nothing imported"},
    "zh-CN": {"csv": "对账单被拒绝，未导入任何内容：第 6 行：应有 9 列，实际为 6 列（文件被截断或格式错误）",
              "mt940": "对账单被拒绝，未导入任何内容：第 1 行起的对账单：余额不平：期初 0 分加各笔交易为 ",
              "camt": "对账单被拒绝，未导入任何内容：Stmt[1]/Ntry[1]：CdtDbtInd 'XX' 必须为 CRDT 或 DBIT",
              "empty": "对账单被拒绝，未导入任何内容：文件为空：未导入任何内容"},
}
CASES = [(lang, fmt) for lang in SAYS for fmt in BAD]


def nothing_imported() -> bool:
    return not db.session.scalar(select(func.count()).select_from(StatementImport)) and \
        not db.session.scalar(select(func.count()).select_from(StatementLine))


@pytest.mark.parametrize("lang,fmt", CASES)
def test_the_desk_says_why_a_file_is_refused(client, finance, lang, fmt):
    data, name = BAD[fmt]
    as_user(client, finance, lang)
    resp = client.post("/finance/reconciliation/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)
    assert resp.status_code == 200
    assert SAYS[lang][fmt] in text(resp)
    assert nothing_imported()


@pytest.mark.parametrize("lang,fmt", CASES)
def test_the_api_says_why_a_file_is_refused(client, finance, lang, fmt):
    data, name = BAD[fmt]
    resp = client.post("/api/v1/finance/statements",
                       headers={**bearer(finance), "Accept-Language": lang},
                       json={"filename": name, "content_base64": base64.b64encode(data).decode()})
    if fmt == "empty":   # an empty string is refused by the request check before the parser
        assert resp.status_code == 422
        return
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "statement_refused" and error["field"] == "file"
    assert error["message"].startswith(SAYS[lang][fmt])
    assert nothing_imported()
