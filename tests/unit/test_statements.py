"""Statement parsers: CSV, MT940 and camt.053 of the same movements read the same; bad files are
refused whole with the line or element and the reason."""
from __future__ import annotations

from datetime import date

import pytest

from market.reconciliation.camt_format import parse_camt
from market.reconciliation.csv_format import parse_csv
from market.reconciliation.matching import EntryIn, LineIn, match
from market.reconciliation.mt940_format import parse_mt940
from market.reconciliation.statement import StatementRefused
from tests.reconciliation_factories import CUSTODY, Move, to_camt053, to_csv, to_mt940

D = date(2026, 11, 3)
MOVES = [Move(D, 340_000, "HX2026000001 42", "华芯", "6222001", "T1"),
         Move(D, -1_250, "", "ICBC", "", "T2"),
         Move(date(2026, 11, 4), -100_000, "PB-1", "运营商", "6222009", "T3"),
         Move(date(2026, 11, 5), 50_000, "PB-1", "运营商", "6222009", "T4"),
         Move(date(2026, 11, 6), 12_345, "X", "某人", "6222777", "T5")]


def _key(parsed):
    return [(ln.booking_date, ln.amount_fen, ln.reference, ln.counterparty_name,
             ln.counterparty_account, ln.bank_txn_id) for ln in parsed.lines]


def test_the_three_formats_read_the_same_movements_and_balances():
    csv_ = parse_csv(to_csv(MOVES, 1_000))
    mt = parse_mt940(to_mt940(MOVES, 1_000, per_statement=2))
    camt = parse_camt(to_camt053(MOVES, 1_000), CUSTODY)
    assert _key(csv_) == _key(mt) == _key(camt)
    assert len(mt.statements) == 3          # each statement keeps its own balances
    assert [s.opening_fen for s in mt.statements] == [1_000, 339_750, 289_750]
    for p in (csv_, mt, camt):
        assert p.statements[0].opening_fen == 1_000
        assert p.statements[-1].closing_fen == 1_000 + sum(m.amount_fen for m in MOVES)
    assert camt.skipped == [{"element": "Stmt[2]", "account": "CN0000OTHER"}]


@pytest.mark.parametrize("parser,data,where", [
    (parse_csv, b"", ""),
    (parse_csv, to_csv([])[:-1] + b"\n", ""),
    (parse_mt940, b"", ""),
    (lambda d: parse_camt(d, CUSTODY), b"", ""),
])
def test_an_empty_file_says_so(parser, data, where):
    with pytest.raises(StatementRefused, match="empty|no statement lines"):
        parser(data)


def test_truncated_malformed_and_unbalanced_files_are_refused_with_the_place():
    good = to_csv(MOVES)
    with pytest.raises(StatementRefused) as e:
        parse_csv(good[: good.rindex(b",")])  # last row cut short
    assert e.value.where == "line 6"
    with pytest.raises(StatementRefused) as e:
        parse_csv(good.replace(b"123.45,C", b"12x.45,C"))
    assert e.value.where == "line 6" and "amount" in e.value.reason
    with pytest.raises(StatementRefused) as e:
        parse_csv(good.replace(b",2387.50", b",2000.00"))  # a running balance that jumps
    assert e.value.where == "line 4"

    mt = to_mt940(MOVES)
    with pytest.raises(StatementRefused, match=":62"):
        parse_mt940(mt[: mt.index(b":62F:")])
    with pytest.raises(StatementRefused, match="balances do not add up"):
        parse_mt940(mt.replace(b":62F:C", b":62F:D", 1))
    with pytest.raises(StatementRefused, match="malformed :61:"):
        parse_mt940(mt.replace(b":61:261103", b":61:2611XX", 1))

    camt = to_camt053(MOVES)
    with pytest.raises(StatementRefused, match="not well-formed"):
        parse_camt(camt[:-40], CUSTODY)
    with pytest.raises(StatementRefused, match="balances do not add up"):
        parse_camt(camt.replace(b"<Amt Ccy=\"CNY\">3400.00", b"<Amt Ccy=\"CNY\">3400.01", 1),
                   CUSTODY)
    with pytest.raises(StatementRefused) as e:
        parse_camt(camt.replace(b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>", b"<CdtDbtInd>XX"
                                b"</CdtDbtInd><Sts>", 1), CUSTODY)
    assert e.value.where == "Stmt[1]/Ntry[1]"


def test_matching_rules_in_order_and_rerun_identical():
    lines = [LineIn(1, D, 340_000, "HX2026000001 42", "华芯", "T1"),
             LineIn(2, D, -100_000, "PB-1", "运营商", "T3"),
             LineIn(3, D, 50_000, "PB-9", "", "T4"),
             LineIn(4, D, -1_250, "", "ICBC", "T2"),
             LineIn(5, D, 7_000, "", "某人", "T6")]
    entries = [EntryIn(10, D, 340_000, bank_ref="T1"), EntryIn(11, D, -100_000, reference="PB-1"),
               EntryIn(12, D, 7_000, counterparty="某人"), EntryIn(13, date(2026, 10, 1), 5)]
    paid = [EntryIn(9, D, -50_000, reference="PB-9")]
    first = match(lines, entries, today=D, returnable=paid)
    assert first == match(list(reversed(lines)), entries, today=D, returnable=paid)
    got = {(o.kind, o.line_id, o.entry_id, o.rule) for o in first}
    assert got == {("matched", 1, 10, "bank_txn_id"), ("matched", 2, 11, "reference"),
                   ("payout_return", 3, 9, "payout_return"), ("unmatched_line", 4, None, ""),
                   ("matched", 5, 12, "amount_date_counterparty"),
                   ("unmatched_entry", None, 13, "")}
