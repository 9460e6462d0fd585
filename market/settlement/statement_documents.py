"""A monthly statement as CSV (for spreadsheets and accounting systems) and as PDF (Chinese).

CSV: UTF-8 with a byte-order mark (spreadsheets then read the Chinese names right), one row per
money event between an opening_balance and a closing_balance row, a total row; amounts in integer
fen, weights in integer kg. Numbers are written as numbers; every text cell that begins with
= + - @ (or a tab or carriage return) is prefixed with an apostrophe, so that a spreadsheet shows
it as text and never runs it as a formula (an organisation's name is chosen by its users).

PDF: a Chinese document like the contract (fixed wording, CJK font embedded by weasyprint).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import render_template
from flask_babel import force_locale

from market.contracts.rendering import html_to_pdf, local_time, yuan
from market.jobs.schedule import TZ
from market.settlement.statements import Statement

COLUMNS = ("date", "kind", "order", "line", "counterparty", "manifests", "accepted_kg",
           "unit_price_fen_per_t", "paid_in_fen", "value_fen", "fee_fen", "payable_credit_fen",
           "payable_debit_fen", "balance_fen", "reference")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
KIND_NAMES = {"funding": "付入托管", "release": "放款", "refund": "退款", "payout": "付款至银行账户",
              "other": "其他"}
LINE_NAMES = {"disposal": "处置费", "transport": "运输费", "sampling": "检测费"}
MANIFEST_STATUS_NAMES = {"draft": "草稿", "shipped": "已起运", "received": "已接收", "closed": "已关闭"}


def neutralise(value) -> str:
    """A CSV cell: integers as they are, text that a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _when(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def csv_rows(st: Statement) -> list[list]:
    """The statement as rows of values (before neutralising), header first."""
    def balance_row(moment: datetime, kind: str, fen: int) -> list:
        row = [None] * len(COLUMNS)
        row[0], row[1], row[COLUMNS.index("balance_fen")] = _when(moment), kind, fen
        return row

    rows: list[list] = [list(COLUMNS), balance_row(st.start, "opening_balance", st.opening_fen)]
    balance = st.opening_fen
    for r in st.rows:
        balance += r.credit_fen - r.debit_fen
        rows.append([_when(r.at), r.kind, r.order_number, r.line_kind, r.counterparty,
                     " ".join(r.manifests), r.accepted_kg, r.unit_price_fen_per_t, r.paid_in_fen,
                     r.value_fen, r.fee_fen, r.credit_fen, r.debit_fen, balance, r.reference])
    rows.append([None, "total", None, None, None, None, None, None, st.total("paid_in_fen"),
                 st.total("value_fen"), st.total("fee_fen"), st.total("credit_fen"),
                 st.total("debit_fen"), None, None])
    rows.append(balance_row(st.end, "closing_balance", st.closing_fen))
    return rows


def statement_csv(st: Statement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv_rows(st):
        writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def statement_html(st: Statement) -> str:
    with force_locale("zh_CN"):
        return render_template("settlement/pdf/statement.html", st=st, yuan=yuan,
                               local_time=local_time, kind_names=KIND_NAMES, line_names=LINE_NAMES,
                               status_names=MANIFEST_STATUS_NAMES, generated_at=datetime.now(TZ))


def statement_pdf(st: Statement) -> bytes:
    return html_to_pdf(statement_html(st))


def filename(st: Statement, ext: str) -> str:
    return f"statement-{st.org.id}-{st.label}.{ext}"
