"""Property test through the real use cases: random prices (negative too), contract weights,
manifest splits (received and refused kg), transport fees and retention; funded, received,
settled (after a top-up when more was accepted than paid for), the certificate uploaded. Then the
escrow is zero, released + refunded = funded, payees' amounts + fees + refunds = funded, the
disposal line released is exactly unit price × accepted kg, and the ledger sums to zero. Each
example runs in its own savepoint with constraints IMMEDIATE, so the triggers check every step.
"""
from __future__ import annotations

import io
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from market import db, ledger
from market.escrow import book, funding
from market.money import line_amount_fen
from market.orders import lifecycle
from market.settlement import queries, services
from tests.escrow_factories import PDF
from tests.factories import OrganisationFactory, PlatformOrgFactory, UserFactory
from tests.settlement_factories import received_order

prices = st.integers(-300_000, 2_000_000).filter(lambda p: p != 0)
splits = st.lists(st.tuples(st.integers(1, 3_000), st.integers(0, 100)), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(price=prices, kg=st.integers(100, 6_000), weights=splits,
       transport=st.integers(0, 80_000), retention=st.sampled_from([0, 0, 1_000]))
def test_settlement_ends_with_escrow_at_zero_and_everything_adding_up(
        app, db_session, price, kg, weights, transport, retention):
    connection = db_session.get_bind()
    db.session.remove()
    example = connection.begin_nested()
    app.config["SETTLEMENT_RETENTION_BPS"] = retention
    try:
        connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        gen_org = OrganisationFactory(types=["generator"])
        op_org = OrganisationFactory(types=["operator"], region_code="441900")
        operator = UserFactory(org=op_org)
        finance = UserFactory(org=PlatformOrgFactory(), platform_role="finance")
        order = received_order(gen_org, op_org, price=price, kg=kg, transport_fen=transport,
                               weights=[(sent, sent) for sent, _ in weights], finance=finance)
        # refusals: part of each manifest's received kg refused
        db.session.execute(text(
            "UPDATE manifest_line SET refused_kg = LEAST(received_kg, :r) WHERE manifest_id IN "
            "(SELECT id FROM manifest WHERE order_id = :o)"),
            {"r": weights[0][1], "o": order.id})
        db.session.commit()
        accepted = queries.accepted_kg(order.id)
        row = services.settle(order.id)
        if row.status == "topup_due":
            for req in funding.requests_of(order.id):
                due = funding.due_fen(req)
                if req.status == "open" and due:
                    lifecycle.confirm_receipt(finance, reference=req.reference, amount_fen=due,
                                              received_on=date.today(), payer_name="p",
                                              bank_ref=f"topup-{req.id}")
            db.session.refresh(order)
        assert order.status == "settled"
        row = queries.settlement_of(order.id)
        if row.retained_fen:
            services.upload_certificate(operator, order.id, io.BytesIO(PDF), "c.pdf")
        state = book.escrow_state(order.id)
        funded = sum(state.funded.values())
        released = sum(state.released_out.values())
        refunded = sum(state.refunded.values())
        assert ledger.balance(book.escrow_account(order)) == 0
        assert released + refunded == funded
        assert sum(state.payee_fen.values()) + state.fees + refunded == funded
        disposal = order.line("disposal")
        assert state.released_value.get(disposal.id, 0) == abs(line_amount_fen(price, accepted))
        assert row.accepted_kg == accepted
        assert ledger.trial_balance().total == 0
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
        db.session.remove()
        example.rollback()
