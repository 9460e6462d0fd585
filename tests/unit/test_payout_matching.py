"""The reconciliation matcher and payout batch line references (the "payout batch id" rule):
however the bank writes the reference back, the debit is the line's payout, and a credit quoting
it is the line coming back."""
from __future__ import annotations

from datetime import date

from market.reconciliation.matching import EntryIn, LineIn, match

DAY = date(2026, 11, 10)
PAYOUT = EntryIn(7, DAY, -200_000, reference="PB00012-001")
OTHER = EntryIn(8, DAY, -200_000, reference="PB00012-002")


def test_the_debit_quoting_a_line_reference_matches_that_payout_by_reference():
    for written in ("PB00012-001", "pb00012 001", "PB00012001"):
        line = LineIn(1, DAY, -200_000, written, "某某环保", "T1")
        assert match([line], [OTHER, PAYOUT], today=DAY) == [
            ("matched", 1, 7, "reference", "")]


def test_a_different_amount_under_the_reference_is_a_mismatch_not_another_line():
    line = LineIn(1, DAY, -199_000, "PB00012-001", "某某环保", "T1")
    assert match([line], [OTHER, PAYOUT], today=DAY)[0][:4] == ("amount_mismatch", 1, 7,
                                                                "reference")


def test_a_credit_quoting_a_paid_line_is_its_return():
    back = LineIn(2, DAY, 200_000, "PB00012-001", "某某环保", "T2")
    assert match([back], [], today=DAY, returnable=[PAYOUT, OTHER]) == [
        ("payout_return", 2, 7, "payout_return", "")]
