"""Property test: random money flows over several orders never break the ledger's invariants.

Operations that would overdraw an escrow or payable account must raise InsufficientFunds and change
nothing; replays return the first entry; every example runs in its own savepoint with constraints
IMMEDIATE (so the database triggers check each statement) and is rolled back afterwards.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from market import db, ledger
from market.ledger.models import Account, Posting
from market.money import fee_fen
from market.uow import transaction

ORDERS = ["HX2026000001", "HX2026000002", "HX2026000003", "HX2026000004"]
PAYEES = [1, 2, 3]  # operators, carriers, labs
PAYER = {order: 10 + i % 2 for i, order in enumerate(ORDERS)}  # generators
fen = st.integers(min_value=1, max_value=5_000)
order = st.sampled_from(ORDERS)

operations = st.one_of(
    st.tuples(st.just("fund"), order, fen),
    st.tuples(st.just("release"), order, st.sampled_from(PAYEES), fen, st.integers(0, 500)),
    st.tuples(st.just("refund"), order, fen),
    st.tuples(st.just("split"), order, st.sampled_from(PAYEES), fen, fen),
    st.tuples(st.just("close"), order),
    st.tuples(st.just("payout"), st.sampled_from(PAYEES + [10, 11]), fen),
    st.tuples(st.just("replay"), st.integers(0, 10**6)),
    st.tuples(st.just("conflict"), st.integers(0, 10**6)),
)


@dataclass
class Model:
    """What the ledger should hold, in natural sign, plus per-order money totals."""
    balance: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    funded: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    out: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # released+refunded+fees
    closed: set[str] = field(default_factory=set)
    done: list[tuple[list[tuple[str, int]], str, str, int]] = field(default_factory=list)


def lines_for(op: tuple, model: Model) -> list[tuple[str, int]] | None:
    """Signed lines (debit +) for one operation, or None when it does not apply."""
    kind = op[0]
    if kind in ("fund", "release", "refund", "split", "close") and op[1] in model.closed:
        return None
    if kind == "fund":
        _, o, amount = op
        return [("clearing:bank", amount), (f"escrow:{o}", -amount)]
    if kind == "release":
        _, o, payee, amount, bps = op
        fee = fee_fen(amount, bps)
        legs = [(f"escrow:{o}", amount), (f"payable:{payee}", -(amount - fee)), ("revenue:fees", -fee)]
        return [leg for leg in legs if leg[1]]
    if kind == "refund":
        _, o, amount = op
        return [(f"escrow:{o}", amount), (f"payable:{PAYER[o]}", -amount)]
    if kind == "split":
        _, o, payee, a, b = op
        return [(f"escrow:{o}", a + b), (f"payable:{payee}", -a), (f"payable:{PAYER[o]}", -b)]
    if kind == "close":
        held = model.balance[f"escrow:{op[1]}"]
        return [(f"escrow:{op[1]}", held), (f"payable:{PAYER[op[1]]}", -held)] if held else None
    _, org, amount = op  # payout
    return [(f"payable:{org}", amount), ("clearing:bank", -amount)]


def natural(code: str, signed: int) -> int:
    return ledger.parse_code(code).natural(signed)


def run(op: tuple, i: int, model: Model) -> None:
    if op[0] in ("replay", "conflict"):
        if not model.done:
            return
        lines, key, memo, entry_id = model.done[op[1] % len(model.done)]
        snapshot = ledger.trial_balance()
        if op[0] == "replay":
            with transaction():
                assert ledger.post(list(reversed(lines)), key, memo).id == entry_id
        else:
            try:
                with transaction():
                    ledger.post(lines, key, memo + " (changed)")
                raise AssertionError("a changed payload under a used key must conflict")
            except ledger.IdempotencyConflict:
                pass
        assert ledger.trial_balance() == snapshot
        return
    lines = lines_for(op, model)
    if lines is None:
        return
    key, memo = f"{op[0]}:{i}", f"{op[0]} #{i}"
    after = {code: model.balance[code] for code, _ in lines}
    for code, amount in lines:
        after[code] += natural(code, amount)
    should_fail = any(v < 0 for c, v in after.items() if not ledger.parse_code(c).may_go_negative)
    snapshot = ledger.trial_balance()
    try:
        with transaction():
            entry = ledger.post(lines, key, memo)
    except ledger.InsufficientFunds as exc:
        assert should_fail, f"{op} refused: {exc.message}"
        assert after[exc.account] < 0
        assert ledger.trial_balance() == snapshot, "a refused operation changed the ledger"
        return
    assert not should_fail, f"{op} should have been refused"
    model.balance.update(after)
    model.done.append((lines, key, memo, entry.id))
    if op[0] == "fund":
        model.funded[op[1]] += op[2]
    elif op[0] in ("release", "refund", "split", "close"):
        model.out[op[1]] += lines[0][1]
        if op[0] == "close":
            model.closed.add(op[1])


def check_invariants(model: Model) -> None:
    unbalanced = db.session.execute(select(Posting.entry_id).group_by(Posting.entry_id)
                                    .having(func.sum(Posting.amount_fen) != 0)).all()
    assert unbalanced == []
    balances = ledger.balances()
    for code, value in balances.items():
        assert value == model.balance[code], code
        if code.startswith(("escrow:", "payable:")):
            assert value >= 0, code
    for o in ORDERS:
        assert model.out[o] <= model.funded[o]
        assert balances.get(f"escrow:{o}", 0) == model.funded[o] - model.out[o]
        if o in model.closed:
            assert balances[f"escrow:{o}"] == 0
    assert ledger.trial_balance().total == 0
    # The cached balance the overdraft checks read equals the sum of the postings.
    cached = db.session.execute(select(Account.code, Account.cached_balance_fen)
                                .where(Account.cached_balance_fen.is_not(None))).all()
    assert all(value == balances[code] for code, value in cached), cached


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, min_size=1, max_size=25))
def test_random_money_flows_keep_the_ledger_sound(db_session, ops):
    connection = db_session.get_bind()
    db.session.remove()
    example = connection.begin_nested()
    try:
        connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        model = Model()
        for i, op in enumerate(ops):
            run(op, i, model)
        check_invariants(model)
    finally:
        db.session.remove()
        example.rollback()
