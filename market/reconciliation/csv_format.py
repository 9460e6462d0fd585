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
    width = len(COLUMNS)
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue
            raise StatementRefused(f"line {number}", f"expected {width} columns, found "
                                                     f"{len(row)} (truncated or malformed)")
        booked, valued, amount_text, direction, name, account, reference, txn, balance_text = \
            [cell.strip() for cell in row]
        where = f"line {number}"
        amount = to_fen(amount_text, where)
        if amount <= 0:
            raise StatementRefused(where, "amount must be positive; the direction says C or D")
        direction = direction.upper()
        if direction == "C":
            signed = amount
        elif direction == "D":
            signed = -amount
        else:
            raise StatementRefused(where, f"direction {direction!r} must be C or D")
        balance = to_fen(balance_text, where)
        if not txn:
            raise StatementRefused(where, "bank_txn_id is required")
        if previous is None:
            opening = previous = balance - signed
        if previous + signed != balance:
            raise StatementRefused(where, f"running balance {balance} fen does not follow from "
                                          f"the previous balance {previous} fen and the amount "
                                          f"{signed} fen")
        previous = balance
        booking_date = to_date(booked, where)
        lines.append(Line(where, booking_date, to_date(valued, where) if valued else booking_date,
                          signed, name, account, reference, txn, balance))
    statement = Statement(account, "csv", opening, previous, lines)
    return Parsed("csv", [statement]).require_lines()
