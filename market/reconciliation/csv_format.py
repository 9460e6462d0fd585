"""Bank statement CSV (the layout documented in docs/statements.md), parsed whole or refused."""
from __future__ import annotations

import csv
import io

from market.reconciliation.statement import (Line, Parsed, Statement, StatementRefused, to_date,
                                             to_fen)

COLUMNS = ("booking_date", "value_date", "amount", "direction", "counterparty_name",
           "counterparty_account", "reference", "bank_txn_id", "balance")


def parse_csv(data: bytes, account: str = "") -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementRefused(f"byte {exc.start}", "the file is not UTF-8 text") from None
    if not text.strip():
        raise StatementRefused("", "the file is empty: nothing imported")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = [h.strip().lower() for h in rows[0]]
    if tuple(header) != COLUMNS:
        raise StatementRefused("line 1", f"the header must be {','.join(COLUMNS)}")
    lines: list[Line] = []
    opening = previous = None
    for number, row in enumerate(rows[1:], start=2):
        where = f"line {number}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise StatementRefused(where, f"expected {len(COLUMNS)} columns, found {len(row)} "
                                          f"(truncated or malformed)")
        r = dict(zip(COLUMNS, (cell.strip() for cell in row)))
        amount = to_fen(r["amount"], where)
        if amount <= 0:
            raise StatementRefused(where, "amount must be positive; the direction says C or D")
        if r["direction"].upper() not in ("C", "D"):
            raise StatementRefused(where, f"direction {r['direction']!r} must be C or D")
        signed = amount if r["direction"].upper() == "C" else -amount
        balance = to_fen(r["balance"], where)
        if not r["bank_txn_id"]:
            raise StatementRefused(where, "bank_txn_id is required")
        if previous is None:
            opening = previous = balance - signed
        if previous + signed != balance:
            raise StatementRefused(where, f"running balance {balance} fen does not follow from "
                                          f"the previous balance {previous} fen and the amount "
                                          f"{signed} fen")
        previous = balance
        lines.append(Line(where, to_date(r["booking_date"], where),
                          to_date(r["value_date"] or r["booking_date"], where), signed,
                          r["counterparty_name"], r["counterparty_account"], r["reference"],
                          r["bank_txn_id"], balance))
    statement = Statement(account, "csv", opening, previous, lines)
    return Parsed("csv", [statement]).require_lines()
