"""Property test: random fund / partial release / refund / dispute split / cancel / close sequences
on several orders, through the escrow use cases, never break the money's invariants.

Each operation either succeeds or is refused with a DomainError that changes nothing; an oracle
computed from the state before says which it must be. After every sequence: every entry balanced,
nothing negative, released + refunded + fees ≤ funded per order, the ledger's escrow equals the
movements', escrow zero on every closed or cancelled order, global sum zero. Each example runs in
its own savepoint with constraints IMMEDIATE, so the database triggers check every statement.
"""
from __future__ import annotations

import io
import itertools

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from market import db, ledger
from market.errors import DomainError
from market.escrow import book, disputes, funding, services
from market.escrow.models import Movement, Receipt
from market.ledger.models import Posting
from market.escrow.policies import plan_release
from market.listings.validation import today
from market.orders import lifecycle
from market.orders import state as state_table
from market.orders.models import Order
from market.orders.lifecycle import cancel_order
from tests.escrow_factories import PDF, make_order
from tests.factories import OrganisationFactory, PlatformOrgFactory, UserFactory

N_ORDERS = 4
order_ix = st.integers(0, N_ORDERS - 1)
_fund = st.tuples(st.just("fund"), order_ix, st.integers(0, 1), st.sampled_from([1, 2, 3, 4]))
_release = st.tuples(st.just("release"), order_ix, st.integers(0, 2), st.integers(1, 600_000))
_refund = st.tuples(st.just("refund"), order_ix, st.integers(0, 1), st.integers(1, 150_000))
_advance = st.tuples(st.just("advance"), order_ix)
# Money has to arrive and orders move on before most operations mean anything: weight those.
operations = st.one_of(
    _fund, _fund, _release, _release, _release, _refund, _refund, _advance, _advance,
    st.tuples(st.just("split"), order_ix, st.integers(0, 100)),
    st.tuples(st.just("split"), order_ix, st.integers(0, 100)),
    st.tuples(st.just("cancel"), order_ix),
    st.tuples(st.just("close"), order_ix),
)
_keys = itertools.count()


class World:
    """Three parties, staff, and orders of every shape: positive, negative price, three lines."""

    def __init__(self):
        self.gen_org = OrganisationFactory(types=["generator"])
        self.op_org = OrganisationFactory(types=["operator"], region_code="441900")
        self.gen = UserFactory(org=self.gen_org)
        self.op = UserFactory(org=self.op_org)
        platform = PlatformOrgFactory()
        self.finance = UserFactory(org=platform, platform_role="finance")
        self.admin = UserFactory(org=platform, platform_role="admin")
        shapes = [dict(price=150_000, kg=2_000),
                  dict(price=-80_000, kg=5_000, transport_fen=30_000),
                  dict(price=123_457, kg=1_234, transport_fen=40_000, sampling_fen=9_999),
                  dict(price=-1_999, kg=777)]
        self.orders = [make_order(self.gen_org, self.op_org, **shape).id for shape in shapes]
        # Half the orders start funded (the others are funded, or not, by the operations).
        for order_id in self.orders[:2]:
            lifecycle.start_funding(order_id)
            for req in funding.requests_of(order_id):
                lifecycle.confirm_receipt(self.finance, reference=req.reference,
                                         amount_fen=req.amount_fen, received_on=today(),
                                         payer_name="p", bank_ref=f"init-{req.id}")

    def order(self, i: int) -> Order:
        order = db.session.get(Order, self.orders[i])
        db.session.refresh(order)
        return order


def snapshot():
    return ledger.trial_balance(), db.session.scalar(select(func.count()).select_from(Posting))


def expect(ok: bool, fn, label: str) -> None:
    """Run one use case: it must succeed when ok, and be refused changing nothing otherwise."""
    event(f"{label} {'accepted' if ok else 'refused'}")  # --hypothesis-show-statistics
    before = snapshot()
    try:
        fn()
    except DomainError as exc:
        assert not ok, f"refused but should succeed: {exc.code} {exc.message}"
        assert snapshot() == before, "a refused operation changed the ledger"
        db.session.rollback()
        return
    assert ok, "succeeded but should have been refused"


def run(w: World, op: tuple) -> None:
    kind, order = op[0], w.order(op[1])
    terms = book.terms_for(order)
    state = book.escrow_state(order.id)
    held = state.held(terms)
    key = f"{kind}-{next(_keys)}"
    if kind == "fund":
        if order.status == "contract_signed":
            lifecycle.start_funding(order.id)
        reqs = funding.requests_of(order.id)
        if not reqs:
            return
        req = reqs[op[2] % len(reqs)]
        due = max(req.amount_fen - state.funded.get(req.payer_org_id, 0), 0)
        amount = {1: max(due // 2, 1), 2: due or 1, 3: due + 777, 4: 1}[op[3]]
        r = lifecycle.confirm_receipt(w.finance, reference=req.reference, amount_fen=amount,
                                     received_on=today(), payer_name="p", bank_ref=key)
        assert r.applied_fen + r.suspense_fen == amount
        assert r.applied_fen <= due
    elif kind == "release":
        t = terms[op[2] % len(terms)]
        done = state.released_value.get(t.line_id, 0)
        open_value = t.value_fen - done
        value = min(op[3], max(open_value, 1)) if op[3] % 3 else op[3]  # some over-asks
        ok = (order.status in services.RELEASABLE and 0 < value <= open_value
              and plan_release(t, done, value).out_fen <= held.get(t.payer_org_id, 0))
        expect(ok, lambda: services.release(w.finance, order.id, t.line_id, value, key), kind)
    elif kind == "refund":
        payer = [w.gen_org.id, w.op_org.id][op[2]]
        ok = order.status in services.REFUNDABLE and op[3] <= held.get(payer, 0)
        expect(ok, lambda: services.refund(w.finance, order.id, payer, op[3], key), kind)
    elif kind == "split":
        total = state.total_held()
        if order.status not in ("received", "settled") or total <= 0:
            return
        d = disputes.open_dispute(w.gen, order.id, "争议", [(io.BytesIO(PDF), "e.pdf")])
        to_op = total * op[2] // 100
        try:
            lifecycle.resolve_dispute(w.admin, d.id, {str(w.op_org.id): to_op,
                                                     str(w.gen_org.id): total - to_op})
        except DomainError as exc:
            # Only a share that cannot carry the operator's fee, or a payee beyond its lines.
            assert exc.code == "split_mismatch", exc.message
            event("split refused")
            db.session.rollback()
            return
        event("split accepted")
        assert ledger.balance(book.escrow_account(order)) == 0
    elif kind == "cancel":
        expect(state_table.can(order.status, "cancelled", "admin"),
               lambda: cancel_order(w.admin, order.id, "取消"), kind)
    elif kind == "close":
        ok = order.status in ("settled", "resolved") and state.total_held() == 0
        expect(ok, lambda: lifecycle.close_order(w.finance, order.id), kind)
    elif kind == "advance":
        # Later issues move funded orders along (manifests, settlement); do it directly here.
        nxt = {"funded": "received", "in_transfer": "received", "received": "settled"}
        if order.status in nxt:
            order.status = nxt[order.status]
            db.session.commit()


def check(w: World) -> None:
    unbalanced = db.session.execute(select(Posting.entry_id).group_by(Posting.entry_id)
                                    .having(func.sum(Posting.amount_fen) != 0)).all()
    assert unbalanced == []
    balances = ledger.balances()
    for code, value in balances.items():
        if code.startswith(("escrow:", "payable:", "suspense:")):
            assert value >= 0, (code, value)
    for i in range(N_ORDERS):
        order = w.order(i)
        state = book.escrow_state(order.id)
        funded = sum(state.funded.values())
        out = sum(state.refunded.values()) + sum(state.released_out.values())
        assert out <= funded and state.fees <= sum(state.released_out.values())
        held = balances.get(book.escrow_account(order), 0)
        assert held == funded - out == state.total_held()
        assert all(v >= 0 for v in state.held(book.terms_for(order)).values())
        if order.status in ("closed", "cancelled", "resolved"):
            assert held == 0, (order.number, order.status, held)
    received = db.session.scalar(select(func.coalesce(func.sum(Receipt.amount_fen), 0)))
    returned = db.session.scalar(select(func.coalesce(func.sum(Movement.amount_fen), 0))
                                 .where(Movement.kind == "suspense_return"))
    assert balances.get("clearing:bank", 0) == received - returned
    assert ledger.trial_balance().total == 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(operations, min_size=10, max_size=40))
def test_random_escrow_flows_keep_money_sound(db_session, ops):
    connection = db_session.get_bind()
    db.session.remove()
    example = connection.begin_nested()
    try:
        connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        w = World()
        for op in ops:
            run(w, op)
        check(w)
    finally:
        db.session.remove()
        example.rollback()
