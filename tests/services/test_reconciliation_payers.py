"""A receipt toward a disposal order from a carrier's or a private person's account raises the
"direct payment" alert (DESIGN.md §8); the payer's own organisation, or any registered
organisation's name, does not."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from market import db
from market.db import utcnow
from market.escrow.policies import make_reference
from market.listings.validation import today
from market.orders import lifecycle
from market.oversight.models import Alert
from market.reconciliation import imports
from market.reconciliation import jobs as recon
from market.reconciliation.models import StatementLine
from market.uow import transaction
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory
from tests.reconciliation_factories import Move, to_camt053, to_csv


def test_receipts_from_a_carrier_or_a_person_raise_the_direct_payment_alert(
        generator, operator, carrier, finance):
    orders = [make_order(generator.org, operator.org, price=150_000, kg=2_000,
                         transport_fen=40_000) for _ in range(4)]
    with transaction():
        for o in orders:
            o.created_at = utcnow() - timedelta(days=30)
    for o in orders:
        lifecycle.request_funding(generator, o.id)
    refs = [make_reference(o.number) for o in orders]
    OrganisationFactory(name="王芳", types=["generator"])   # a firm that bears a person's name
    day = today() - timedelta(days=5)
    amount = orders[0].total_fen
    imports.import_statement(finance, filename="p.csv", data=to_csv([
        Move(day, amount, refs[0], "张伟", "6222100", "P1"),               # a private person
        Move(day, amount, refs[1], carrier.org.name, "6222555", "P2"),     # the carrier
        Move(day, amount, refs[2], generator.org.name, "6222001", "P3"),   # the payer itself
        Move(day, amount, refs[3], "王芳", "6222200", "P4")]))             # a registered firm
    recon.run_matching(finance)

    for o in orders:                       # every receipt funds its order all the same
        db.session.refresh(o)
        assert o.status == "funded"
    alerts = {a.order_id: a for a in db.session.scalars(
        select(Alert).where(Alert.rule_id == "direct_payment"))}
    assert set(alerts) == {orders[0].id, orders[1].id}
    person, firm = alerts[orders[0].id], alerts[orders[1].id]
    assert person.carrier_org_id is None and person.data["payer_kind"] == "individual"
    assert person.data["payer"] == "张伟" and person.data["account"] == "6222100"
    assert person.subject == "recon_line:%d" % db.session.scalar(
        select(StatementLine.id).where(StatementLine.bank_txn_id == "P1"))
    assert firm.carrier_org_id == carrier.org.id and firm.data["payer_kind"] == "carrier"
    assert person.generator_org_id == generator.org.id


def test_a_camt_statement_says_who_the_payer_is(generator, operator, finance):
    orders = [make_order(generator.org, operator.org, price=150_000, kg=2_000,
                         transport_fen=40_000) for _ in range(2)]
    with transaction():
        for o in orders:
            o.created_at = utcnow() - timedelta(days=30)
    for o in orders:
        lifecycle.request_funding(generator, o.id)
    refs = [make_reference(o.number) for o in orders]
    day = today() - timedelta(days=5)
    data = to_camt053([Move(day, orders[0].total_fen, refs[0], "Li Ming", "6222300", "C1"),
                       Move(day, orders[1].total_fen, refs[1], "张伟", "6222400", "C2")],
                      other_account=False)
    # the bank marks the first payer a private person, the second an organisation
    data = data.replace(b"<Dbtr><Nm>Li Ming</Nm></Dbtr>", b"<Dbtr><Pty><Nm>Li Ming</Nm><Id><PrvtId>"
                        b"<Othr><Id>110101199001011234</Id></Othr></PrvtId></Id></Pty></Dbtr>")
    data = data.replace("<Dbtr><Nm>张伟</Nm></Dbtr>".encode(), "<Dbtr><Nm>张伟</Nm><Id><OrgId><Othr>"
                        "<Id>91440300MA5XXXXXXX</Id></Othr></OrgId></Id></Dbtr>".encode())
    imports.import_statement(finance, filename="who.xml", data=data)
    kinds = dict(db.session.execute(select(StatementLine.bank_txn_id,
                                           StatementLine.party_kind)).all())
    assert kinds == {"C1": "person", "C2": "organisation"}
    recon.run_matching(finance)
    alerts = list(db.session.scalars(select(Alert).where(Alert.rule_id == "direct_payment")))
    assert [(a.order_id, a.data["payer_kind"], a.data["payer"]) for a in alerts] == [
        (orders[0].id, "individual", "Li Ming")]
