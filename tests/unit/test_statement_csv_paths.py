"""The CSV parser reads a plain file column by column and anything else line by line: both give
the same lines, balances and refusals."""
from __future__ import annotations

from datetime import date

import pytest

from market.reconciliation import csv_format
from market.reconciliation.csv_format import parse_csv
from market.reconciliation.matching import EntryIn, LineColumns, LineIn, columns_of, match
from market.reconciliation.statement import StatementRefused
from tests.reconciliation_factories import Move, to_csv
from tests.unit.test_statements import MOVES


def lines(parsed):
    """Everything but the position (a blank line moves the later line numbers)."""
    return [tuple(ln)[1:] for ln in parsed.lines]


def test_plain_and_unusual_files_read_the_same(monkeypatch):
    plain = to_csv(MOVES, 1_000)
    fast = parse_csv(plain)
    assert fast.statements[0].columns is not None          # read column by column
    variants = [
        plain.replace(b",C,", b",c,"),                       # lower-case direction
        plain.replace(b"\n", b"\r\n"),                       # Windows line ends
        plain.replace("华芯".encode(), '"华芯"'.encode()),     # a quoted cell
        plain.replace(b",T2,", b", T2 ,"),                   # padded cells
        plain.replace(b",T2,", b",T2\t,"),                   # a tab after an ASCII cell
        plain.replace(b",6222001,", b", 6222001,"),          # a blank before an ASCII cell
        plain.replace(b",X,", b",X\x0b,"),                   # a vertical tab
        plain.replace(b"\n2026-11-04", b"\n\n2026-11-04"),   # a blank line
    ]
    for data in variants:
        slow = parse_csv(data)
        assert lines(slow) == lines(fast), data
        assert (slow.statements[0].opening_fen, slow.statements[0].closing_fen) == \
            (fast.statements[0].opening_fen, fast.statements[0].closing_fen)
    # the line-by-line reading alone gives the same lines
    monkeypatch.setattr(csv_format, "_columns", lambda text, account: None)
    assert parse_csv(plain).lines == fast.lines


@pytest.mark.parametrize("change,where", [
    ((b"123.45,C", b"123.456,C"), "line 6"),                 # three decimals
    ((b"123.45,C", b"0.00,C"), "line 6"),                    # a zero amount
    ((b",T3,", b",,"), "line 4"),                            # no bank transaction id
    ((b"2026-11-05", b"2026-13-05"), "line 5"),              # no such date
    ((b",C,", b",X,"), "line 2"),                            # no such direction
])
def test_refusals_name_the_same_line_either_way(change, where):
    data = to_csv(MOVES).replace(*change, 1)
    with pytest.raises(StatementRefused) as e:
        parse_csv(data)
    assert e.value.where == where


def test_lines_as_columns_or_tuples_match_the_same():
    d = date(2026, 11, 3)
    moves = [LineIn(i, d, 100 * i, "", "x", f"T{i}") for i in (3, 1, 2)]
    entries = [EntryIn(10 + i, d, 100 * i, bank_ref=f"T{i}") for i in (1, 2)]
    as_tuples = match(moves, entries, today=d)
    as_columns = match(columns_of(sorted(moves)), entries, today=d)
    assert as_tuples == as_columns
    assert {(o.kind, o.line_id, o.entry_id) for o in as_tuples} == {
        ("matched", 1, 11), ("matched", 2, 12), ("unmatched_line", 3, None)}
    assert match(LineColumns((), (), (), (), (), ()), entries, today=d) == []


def test_two_lines_naming_one_bank_transaction_the_first_takes_it():
    d = date(2026, 11, 3)
    got = match([LineIn(2, d, 5, "", "", "T1"), LineIn(1, d, 5, "", "", "T1")],
                [EntryIn(9, d, 5, bank_ref="T1")], today=d)
    assert [(o.kind, o.line_id, o.entry_id) for o in got] == [
        ("matched", 1, 9), ("unmatched_line", 2, None)]


def test_a_move_on_a_later_day_keeps_its_own_value_date():
    moves = [Move(date(2026, 11, 3), 500, "", "A", "1", "V1")]
    data = to_csv(moves).replace(b"2026-11-03,2026-11-03", b"2026-11-03,2026-11-05")
    (line,) = parse_csv(data).lines
    assert (line.booking_date, line.value_date) == (date(2026, 11, 3), date(2026, 11, 5))
