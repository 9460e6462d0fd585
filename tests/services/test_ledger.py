"""Ledger services: posting, balances, trial balance, idempotency, reversal, refused input.

Constraints are set IMMEDIATE for every test here, so the database triggers check each statement
too (inside the rolled-back test transaction they would otherwise never fire).
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from market import db, ledger
from market.errors import Conflict, NotFound, ValidationFailed
from market.ledger.models import Account, Entry, Posting
from market.uow import transaction


@pytest.fixture(autouse=True)
def immediate_constraints(db_session):
    db_session.get_bind().execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Account, Entry, Posting))


def fund(order: str, fen: int, key: str | None = None):
    with transaction():
        return ledger.post([("clearing:bank", fen), (f"escrow:{order}", -fen)],
                           key or f"fund:{order}:{fen}", f"funding of {order}")


def test_post_and_balances():
    entry = fund("HX2026000001", 10_000)
    with transaction():
        ledger.post([("escrow:HX2026000001", 6_000), ("payable:7", -5_940), ("revenue:fees", -60)],
                    "release:HX2026000001:1", "release of the disposal line")
    assert entry.id and entry.posted_at and entry.memo == "funding of HX2026000001"
    assert ledger.balance("clearing:bank") == 10_000
    assert ledger.balance("escrow:HX2026000001") == 4_000
    assert ledger.balance("payable:7") == 5_940
    assert ledger.balance("revenue:fees") == 60
    assert ledger.balance("payable:999") == 0  # unknown account: zero, not created
    assert ledger.balances("escrow:") == {"escrow:HX2026000001": 4_000}
    assert ledger.balances()["payable:7"] == 5_940
    rows, total = ledger.trial_balance()
    assert total == 0
    assert dict(rows) == {"clearing:bank": 10_000, "escrow:HX2026000001": -4_000,
                          "payable:7": -5_940, "revenue:fees": -60}
    assert ledger.entry_lines(entry.id) == [("clearing:bank", 10_000), ("escrow:HX2026000001", -10_000)]
    history = ledger.account_postings("escrow:HX2026000001")
    assert [p.amount_fen for p in history] == [6_000, -10_000]


def test_account_get_or_create():
    with transaction():
        a = ledger.account("escrow:HX2026000002")
        b = ledger.account("escrow:HX2026000002")
        fees = ledger.account("revenue:fees")
    assert a.id == b.id
    assert (a.kind, a.may_go_negative, a.cached_balance_fen) == ("escrow", False, 0)
    assert (fees.kind, fees.may_go_negative, fees.cached_balance_fen) == ("revenue", True, None)
    with pytest.raises(ValidationFailed, match="malformed"):
        with transaction():
            ledger.account("escrow:lowercase")


def test_writers_need_an_open_transaction():
    with pytest.raises(RuntimeError, match="transaction"):
        ledger.post([("clearing:bank", 1), ("escrow:HX1", -1)], "k", "m")
    with pytest.raises(RuntimeError, match="transaction"):
        ledger.account("clearing:bank")
    assert counts() == (0, 0, 0)


def test_post_never_commits():
    # The outer use case fails after posting: nothing of the posting survives.
    with pytest.raises(ZeroDivisionError):
        with transaction():
            ledger.post([("clearing:bank", 5), ("escrow:HX1", -5)], "k", "m")
            1 / 0
    assert counts() == (0, 0, 0)


BAD_INPUT = [
    ([("clearing:bank", 100.0), ("escrow:HX1", -100.0)],
     "line 1 (clearing:bank): amount must be an integer number of fen, got float"),
    ([("clearing:bank", True), ("escrow:HX1", -1)], "got bool"),
    ([("clearing:bank", Decimal("100")), ("escrow:HX1", -100)], "got Decimal"),
    ([("clearing:bank", "100"), ("escrow:HX1", -100)], "got str"),
    ([("clearing:bank", 0), ("escrow:HX1", 0)], "line 1 (clearing:bank): amount must not be zero"),
    ([("clearing:bank", 100)], "at least two lines"),
    ([("clearing:bank", 100), ("escrow:HX1", -99)], "unbalanced"),
    ([("clearing:bank", 100), ("escrow:hx1", -100)], "line 2: account code 'escrow:hx1' is malformed"),
    ([("bank", 100), ("escrow:HX1", -100)], "line 1: account code 'bank' must start with"),
]


@pytest.mark.parametrize("lines, message", BAD_INPUT)
def test_bad_input_is_refused_and_writes_nothing(lines, message):
    fund("HX9", 50)
    before = counts()
    with pytest.raises(ValidationFailed) as err:
        with transaction():
            ledger.post(lines, "bad", "bad input")
    assert message in err.value.message
    assert counts() == before


@pytest.mark.parametrize("key, memo, field", [
    ("", "m", "idempotency_key"), ("k", "", "memo"), (None, "m", "idempotency_key"),
    ("k" * 201, "m", "idempotency_key"),
])
def test_key_and_memo_are_required(key, memo, field):
    with pytest.raises(ValidationFailed) as err:
        with transaction():
            ledger.post([("clearing:bank", 1), ("escrow:HX1", -1)], key, memo)
    assert err.value.field == field
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize("code", ["escrow:HX2026000003", "payable:42", "suspense:bank"])
def test_overdraft_of_guarded_accounts_is_refused(code):
    with transaction():
        ledger.post([("clearing:bank", 1_000), (code, -1_000)], "in", "money in")
    before = counts()
    with pytest.raises(ledger.InsufficientFunds) as err:
        with transaction():
            ledger.post([(code, 1_001), ("clearing:bank", -1_001)], "out", "too much out")
    assert err.value.account == code and err.value.code == "insufficient_funds"
    assert f"insufficient funds in {code}: balance 1000 fen" in err.value.message
    assert counts() == before
    assert ledger.balance(code) == 1_000


def test_overdraft_of_a_new_account_writes_nothing():
    with pytest.raises(ledger.InsufficientFunds, match="payable:77"):
        with transaction():
            ledger.post([("payable:77", 1), ("clearing:bank", -1)], "payout", "payout")
    assert counts() == (0, 0, 0)


def test_hot_accounts_may_go_negative():
    with transaction():
        ledger.post([("expense:gateway_fees", 30), ("clearing:bank", -30)], "fee", "gateway fee")
    assert ledger.balance("clearing:bank") == -30
    assert ledger.trial_balance().total == 0


def test_exact_balance_can_be_released_to_zero():
    fund("HX4", 500)
    with transaction():
        ledger.post([("escrow:HX4", 500), ("payable:3", -500)], "release", "release all")
    assert ledger.balance("escrow:HX4") == 0


def test_idempotent_replay_posts_once():
    first = fund("HX5", 700, key="fund:HX5")
    before = counts()
    with transaction():
        again = ledger.post([("escrow:HX5", -700), ("clearing:bank", 700)], "fund:HX5",
                            "funding of HX5")
    assert again.id == first.id and again.replayed and not first.replayed
    assert again.posted_at == first.posted_at
    assert counts() == before
    assert ledger.balance("escrow:HX5") == 700


def test_same_key_different_payload_is_a_conflict():
    first = fund("HX6", 700, key="fund:HX6")
    before = counts()
    for lines, memo in [([("clearing:bank", 701), ("escrow:HX6", -701)], "funding of HX6"),
                        ([("clearing:bank", 700), ("escrow:HX6", -700)], "other memo")]:
        with pytest.raises(ledger.IdempotencyConflict) as err:
            with transaction():
                ledger.post(lines, "fund:HX6", memo)
        assert isinstance(err.value, Conflict) and err.value.code == "idempotency_conflict"
        assert err.value.entry_id == first.id
    assert counts() == before


def test_replay_is_recognised_even_when_the_balance_has_since_moved():
    fund("HX7", 100)
    with transaction():
        release = ledger.post([("escrow:HX7", 100), ("payable:1", -100)], "rel:HX7", "release")
    with transaction():  # escrow is now 0; a replay must still return the first result
        assert ledger.post([("escrow:HX7", 100), ("payable:1", -100)], "rel:HX7", "release").id == release.id


def test_lines_on_the_same_account_are_posted_as_one_leg():
    with transaction():
        entry = ledger.post([("clearing:bank", 600), ("escrow:HX13", -1_000), ("clearing:bank", 400)],
                            "fund:HX13", "funding in two transfers")
    assert ledger.entry_lines(entry.id) == [("clearing:bank", 1_000), ("escrow:HX13", -1_000)]
    assert ledger.balance("escrow:HX13") == 1_000


def test_lines_that_cancel_out_on_one_account_are_refused():
    before = counts()
    with pytest.raises(ValidationFailed, match="at least two accounts"):
        with transaction():
            ledger.post([("clearing:bank", 5), ("clearing:bank", -5)], "nothing", "moves nothing")
    assert counts() == before


def test_balance_as_of_excludes_later_entries():
    fund("HX8", 1_000)
    between = db.session.scalar(select(func.clock_timestamp()))
    with transaction():
        ledger.post([("escrow:HX8", 400), ("payable:2", -400)], "rel:HX8", "release")
    assert ledger.balance("escrow:HX8", as_of=between) == 1_000
    assert ledger.balance("escrow:HX8") == 600
    assert ledger.balance("escrow:HX8", as_of=between - timedelta(hours=1)) == 0
    assert ledger.balances("payable:", as_of=between) == {"payable:2": 0}
    assert ledger.trial_balance(as_of=between).total == 0
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        ledger.balance("escrow:HX8", as_of=datetime.now())
    assert ledger.balance("escrow:HX8", as_of=datetime.now(timezone.utc)) == 600


def test_reverse_restores_balances():
    fund("HX10", 900)
    with transaction():
        release = ledger.post([("escrow:HX10", 900), ("payable:5", -891), ("revenue:fees", -9)],
                              "rel:HX10", "release")
    with transaction():
        reversal = ledger.reverse(release.id, "reverse:rel:HX10", "released in error")
    assert reversal.reverses_id == release.id
    assert ledger.entry_lines(reversal.id) == [("escrow:HX10", -900), ("payable:5", 891),
                                               ("revenue:fees", 9)]
    assert ledger.balance("escrow:HX10") == 900
    assert ledger.balance("payable:5") == 0 and ledger.balance("revenue:fees") == 0
    with transaction():  # replay of the same reversal
        assert ledger.reverse(release.id, "reverse:rel:HX10", "released in error").id == reversal.id
    with pytest.raises(ledger.AlreadyReversed):
        with transaction():
            ledger.reverse(release.id, "reverse:again", "second reversal")
    assert ledger.trial_balance().total == 0


def test_reverse_refuses_what_would_overdraw_and_unknown_entries():
    funding = fund("HX11", 300)
    with transaction():
        ledger.post([("escrow:HX11", 300), ("payable:6", -300)], "rel:HX11", "release")
    with pytest.raises(ledger.InsufficientFunds, match="escrow:HX11"):
        with transaction():
            ledger.reverse(funding.id, "reverse:fund:HX11", "funding reversed")
    with pytest.raises(NotFound):
        with transaction():
            ledger.reverse(10**9, "reverse:none", "missing")


def test_cached_balance_matches_postings():
    fund("HX12", 1_000)
    with transaction():
        ledger.post([("escrow:HX12", 250), ("payable:9", -240), ("revenue:fees", -10)], "r1", "release")
        ledger.post([("payable:9", 240), ("clearing:bank", -240)], "p1", "payout")
    cached = dict(db.session.execute(select(Account.code, Account.cached_balance_fen)).all())
    assert cached == {"clearing:bank": None, "escrow:HX12": 750, "payable:9": 0, "revenue:fees": None}
