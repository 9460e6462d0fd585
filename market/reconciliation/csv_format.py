"""Bank statement CSV (the layout documented in docs/statements.md), parsed whole or refused.

A file whose every cell is in the usual shape (yuan with two decimals, C/D, ISO dates) is read
column by column with C-level operations (a statement of 100,000 lines is a large share of a
bank's month); anything else goes through the line-by-line reading, which finds the first bad
line and says why. Both give the same lines for the same file.
"""
from __future__ import annotations

import csv
import io
import re
from itertools import accumulate, repeat
from operator import mul

from market.reconciliation.statement import (N_, Line, Parsed, Statement, StatementRefused, Text,
                                             at_line, gc_paused, to_date, to_fen)

COLUMNS = ("booking_date", "value_date", "amount", "direction", "counterparty_name",
           "counterparty_account", "reference", "bank_txn_id", "balance")
_WIDTH = len(COLUMNS)
# yuan with two decimals, one a line (possessive: no backtracking over 100,000 lines)
_POSITIVE = re.compile(r"(?:\d{1,15}+\.\d\d\n)*+")
_SIGNED = re.compile(r"(?:-?+\d{1,15}+\.\d\d\n)*+")
_SIGN = {"C": 1, "D": -1}
_AS_THEY_STAND = {0, 1, 2, 3, 8}


def parse_csv(data: bytes, account: str = "") -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatementRefused(Text(N_("byte %(byte)d"), {"byte": exc.start}),
                               N_("the file is not UTF-8 text")) from None
    if not text.strip():
        raise StatementRefused("", N_("the file is empty: nothing imported"))
    with gc_paused():
        statement = _columns(text, account)
    if statement is None:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        header = [h.strip().lower() for h in rows[0]]
        if tuple(header) != COLUMNS:
            raise StatementRefused(at_line(1), N_("the header must be %(columns)s"),
                                   columns=",".join(COLUMNS))
        statement = _line_by_line(rows[1:], account)
    return Parsed("csv", [statement]).require_lines()


def _cells(text: str) -> list[list[str]] | None:
    """The columns of a plain file (no quotes, no blank lines, 9 cells a line), else None."""
    if '"' in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    if text.endswith("\n"):
        text = text[:-1]
    rows = text.split("\n")
    if len(rows) < 2 or set(map(str.count, rows, repeat(","))) != {_WIDTH - 1}:
        return None
    if tuple(h.strip().lower() for h in rows[0].split(",")) != COLUMNS:
        return None
    cells = text[len(rows[0]) + 1:].replace("\n", ",").split(",")
    # amounts, balances and directions are checked as they stand (padded ones take the slow
    # path); dates are stripped by to_date; the texts are stripped here
    return [cells[i::_WIDTH] if i in _AS_THEY_STAND else list(map(str.strip, cells[i::_WIDTH]))
            for i in range(_WIDTH)]


def _columns(text: str, account: str) -> Statement | None:
    """The whole file at once, or None when any cell is unusual (the slow path then says which)."""
    cols = _cells(text)
    if cols is None:
        return None
    booked, valued, amount_text, direction, name, cp_account, reference, txn, balance_text = cols
    joined_amounts = "\n".join(amount_text) + "\n"
    joined_balances = "\n".join(balance_text) + "\n"
    if not (_POSITIVE.fullmatch(joined_amounts) and _SIGNED.fullmatch(joined_balances)):
        return None
    amounts = list(map(int, joined_amounts[:-1].replace(".", "").split("\n")))
    if 0 in amounts or not set(direction) <= _SIGN.keys() or "" in txn or "" in booked:
        return None
    signed = list(map(mul, amounts, map(_SIGN.__getitem__, direction)))
    balances = list(map(int, joined_balances[:-1].replace(".", "").split("\n")))
    opening = balances[0] - signed[0]
    if list(accumulate(signed, initial=opening))[1:] != balances:
        return None
    try:
        days = set(booked) if valued is booked or valued == booked else {*booked, *valued}
        dates = {d: to_date(d, "") for d in days if d}
    except StatementRefused:
        return None
    booking_dates = list(map(dates.__getitem__, booked))
    value_dates = (booking_dates if valued == booked else list(map(dates.__getitem__, valued))
                   if all(valued)
                   else [dates[v] if v else b for v, b in zip(valued, booking_dates)])
    return Statement(account, "csv", opening, balances[-1], columns={
        "position": range(2, len(txn) + 2), "booking_date": booking_dates,
        "value_date": value_dates, "amount_fen": signed, "counterparty_name": name,
        "counterparty_account": cp_account, "reference": reference, "bank_txn_id": txn,
        "balance_fen": balances})


def _line_by_line(body: list[list[str]], account: str) -> Statement:
    lines: list[Line] = []
    opening = previous = None
    for number, row in enumerate(body, start=2):
        where = at_line(number)
        if len(row) != _WIDTH:
            if not any(cell.strip() for cell in row):
                continue
            raise StatementRefused(where, N_("expected %(width)d columns, found %(found)d "
                                             "(truncated or malformed)"),
                                   width=_WIDTH, found=len(row))
        booked, valued, amount_text, direction, name, cp_account, reference, txn, balance_text = \
            [cell.strip() for cell in row]
        amount = to_fen(amount_text, where)
        if amount <= 0:
            raise StatementRefused(where, N_("amount must be positive; the direction says C "
                                             "or D"))
        direction = direction.upper()
        if direction == "C":
            signed = amount
        elif direction == "D":
            signed = -amount
        else:
            raise StatementRefused(where, N_("direction %(text)s must be C or D"),
                                   text=repr(direction))
        balance = to_fen(balance_text, where)
        if not txn:
            raise StatementRefused(where, N_("bank_txn_id is required"))
        if previous is None:
            opening = previous = balance - signed
        if previous + signed != balance:
            raise StatementRefused(where, N_("running balance %(balance)d fen does not follow "
                                             "from the previous balance %(previous)d fen and the "
                                             "amount %(amount)d fen"),
                                   balance=balance, previous=previous, amount=signed)
        previous = balance
        booking_date = to_date(booked, where)
        lines.append(Line(str(where), booking_date,
                          to_date(valued, where) if valued else booking_date,
                          signed, name, cp_account, reference, txn, balance))
    return Statement(account, "csv", opening, previous, lines)
