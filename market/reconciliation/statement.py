"""What every statement parser returns (pure): statements with balances and lines, or a refusal.

Amounts are signed integer fen from the custody account's side: a credit (money in) positive, a
debit (money out) negative. A parser refuses a file whole with StatementRefused naming the line
or element and the reason; it never returns part of a file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import date


class StatementRefused(ValueError):
    """The whole file is refused; .where names the line or element, .reason says why."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason


class Line(NamedTuple):
    position: str            # "line 7" or "Stmt[1]/Ntry[3]": where it stands in the file
    booking_date: date
    value_date: date
    amount_fen: int          # + credit (in), − debit (out)
    counterparty_name: str
    counterparty_account: str
    reference: str
    bank_txn_id: str
    balance_fen: int | None = None


@dataclass(slots=True)
class Statement:
    account: str
    statement_id: str
    opening_fen: int | None
    closing_fen: int | None
    lines: list[Line] = field(default_factory=list)

    def check_balances(self, where: str) -> None:
        """Opening + lines = closing (when the format carries balances), else refused."""
        if self.opening_fen is None or self.closing_fen is None:
            return
        total = self.opening_fen + sum(ln.amount_fen for ln in self.lines)
        if total != self.closing_fen:
            raise StatementRefused(where, f"balances do not add up: opening {self.opening_fen} + "
                                          f"lines = {total} fen, closing balance says "
                                          f"{self.closing_fen} fen")


@dataclass(slots=True)
class Parsed:
    format: str
    statements: list[Statement]
    skipped: list[str] = field(default_factory=list)   # what was left out and why

    @property
    def lines(self) -> list[Line]:
        return [ln for st in self.statements for ln in st.lines]

    def require_lines(self) -> "Parsed":
        if not self.lines:
            raise StatementRefused("", "the file holds no statement lines: nothing imported")
        return self


_AMOUNT = re.compile(r"(-?)(\d{1,15})(?:[.,](\d{1,2}))?")


def to_fen(text: str, where: str) -> int:
    """'1234.56' or '1234,5' (yuan) → 123456 fen; anything else refused."""
    m = _AMOUNT.fullmatch(text)
    if m is None:
        m = _AMOUNT.fullmatch((text or "").strip().replace(" ", ""))
        if m is None:
            raise StatementRefused(where, f"amount {text!r} is not a number of yuan with at "
                                          f"most two decimals")
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
    return -fen if sign else fen


_DATES: dict[str, date] = {}


def to_date(text: str, where: str) -> date:
    key = (text or "").strip()[:10]
    found = _DATES.get(key)
    if found is not None:
        return found
    try:
        found = date.fromisoformat(key)
    except ValueError:
        raise StatementRefused(where, f"date {text!r} is not a date (YYYY-MM-DD)") from None
    if len(_DATES) < 10_000:
        _DATES[key] = found
    return found


def normalise_account(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").upper()
