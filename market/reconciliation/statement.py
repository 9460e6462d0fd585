"""What every statement parser returns (pure): statements with balances and lines, or a refusal.

Amounts are signed integer fen from the custody account's side: a credit (money in) positive, a
debit (money out) negative. A parser refuses a file whole with StatementRefused naming the line
or element and the reason; it never returns part of a file.

Refusals and skip notes are Text: an English msgid (marked with N_ so extraction finds it) and its
parameters, rendered in the user's language where they are shown (market.reconciliation.imports).
"""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from itertools import chain
from operator import itemgetter
from typing import NamedTuple


@contextmanager
def gc_paused():
    """Build many small acyclic tuples (lines, outcomes) without the cyclic collector walking
    them again and again; it runs as usual afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated where the message is shown."""
    return message


class Text(NamedTuple):
    """A message to be shown in the reader's language: msgid % params."""
    msgid: str
    params: dict

    def __str__(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


def at_line(number: int) -> Text:
    return Text(N_("line %(line)d"), {"line": number})


def element(path: str) -> Text:
    """An XML element path (Stmt[1]/Ntry[3]) names itself in every language."""
    return Text("%(element)s", {"element": path})


class StatementRefused(ValueError):
    """The whole file is refused; .where names the line or element, .reason says why (English
    strings); .where_text and .reason_text are the same as Text for translation."""

    def __init__(self, where: "Text | str", reason: str, **params):
        where_text = where if isinstance(where, Text) else (element(where) if where else None)
        self.where_text = where_text
        self.reason_text = Text(reason, params)
        self.where = str(where_text) if where_text else ""
        self.reason = str(self.reason_text)
        super().__init__(f"{self.where}: {self.reason}" if self.where else self.reason)


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
    party_kind: str = ""     # "person" or "organisation" where the format says (camt), else ""


_new_line = partial(tuple.__new__, Line)
_POSITION = "position"


@dataclass(slots=True)
class Statement:
    account: str
    statement_id: str
    opening_fen: int | None
    closing_fen: int | None
    lines: list[Line] = field(default_factory=list)
    # The lines column by column (Line's field names; "position" holds the line numbers), when
    # a parser read them that way: Line tuples are then made only if someone asks for them.
    columns: dict[str, Sequence] | None = None

    @property
    def line_count(self) -> int:
        return len(self.lines) if self.columns is None else len(self.columns["bank_txn_id"])

    def column(self, name: str) -> Sequence:
        if self.columns is None:
            return list(map(itemgetter(Line._fields.index(name)), self.lines))
        if name == _POSITION:
            return list(map("line {}".format, self.columns[_POSITION]))
        if name not in self.columns:      # a field this format does not carry
            return [Line._field_defaults[name]] * self.line_count
        return self.columns[name]

    def all_lines(self) -> list[Line]:
        if self.columns is not None and not self.lines:
            with gc_paused():
                self.lines = list(map(_new_line, zip(*(self.column(name)
                                                       for name in Line._fields))))
        return self.lines

    def check_balances(self, where: "Text | str") -> None:
        """Opening + lines = closing (when the format carries balances), else refused."""
        if self.opening_fen is None or self.closing_fen is None:
            return
        total = self.opening_fen + sum(self.column("amount_fen"))
        if total != self.closing_fen:
            raise StatementRefused(where, N_("balances do not add up: opening %(opening)d + "
                                             "lines = %(total)d fen, closing balance says "
                                             "%(closing)d fen"),
                                   opening=self.opening_fen, total=total,
                                   closing=self.closing_fen)


@dataclass(slots=True)
class Parsed:
    format: str
    statements: list[Statement]
    skipped: list[dict] = field(default_factory=list)  # what was left out: {"element", "account"}

    @property
    def lines(self) -> list[Line]:
        if len(self.statements) == 1:
            return self.statements[0].all_lines()
        return list(chain.from_iterable(st.all_lines() for st in self.statements))

    @property
    def line_count(self) -> int:
        return sum(st.line_count for st in self.statements)

    def column(self, name: str) -> Sequence:
        """One field of every line, in order (Line's field names)."""
        if len(self.statements) == 1:
            return self.statements[0].column(name)
        return list(chain.from_iterable(st.column(name) for st in self.statements))

    def require_lines(self) -> "Parsed":
        if not self.line_count:
            raise StatementRefused("", N_("the file holds no statement lines: nothing imported"))
        return self


_AMOUNT = re.compile(r"(-?)(\d{1,15})(?:[.,](\d{1,2}))?")


def to_fen(text: str, where: "Text | str") -> int:
    """'1234.56' or '1234,5' (yuan) → 123456 fen; anything else refused."""
    m = _AMOUNT.fullmatch(text)
    if m is None:
        m = _AMOUNT.fullmatch((text or "").strip().replace(" ", ""))
        if m is None:
            raise StatementRefused(where, N_("amount %(text)s is not a number of yuan with at "
                                             "most two decimals"), text=repr(text))
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + (int(frac) * (10 if len(frac) == 1 else 1) if frac else 0)
    return -fen if sign else fen


_DATES: dict[str, date] = {}


def to_date(text: str, where: "Text | str") -> date:
    key = (text or "").strip()[:10]
    found = _DATES.get(key)
    if found is not None:
        return found
    try:
        found = date.fromisoformat(key)
    except ValueError:
        raise StatementRefused(where, N_("date %(text)s is not a date (YYYY-MM-DD)"),
                               text=repr(text)) from None
    if len(_DATES) < 10_000:
        _DATES[key] = found
    return found


def normalise_account(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").upper()
