"""Change feeds of quotes, manifests, settlements, payables, regulator alerts, collection rounds and
an order's reviews: each change once, a child's change brings its parent back, and each
organisation sees only its own (regulators their region)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from market import db
from market.accounts.models import Organisation
from market.collection.services import book_round
from market.listings import quotes as quote_service
from market.manifests.models import Manifest
from market.money import line_amount_fen
from market.orders import settling
from market.settlement import services as settlement
from market.uow import transaction
from tests.api.conftest import bearer, error_of
from tests.api.feed_client import seen_once_under_concurrent_writers, sync
from tests.collection_factories import booking_data, collector, publish, small_generator
from tests.escrow_factories import PDF
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory, QuoteFactory
from tests.oversight_factories import settled_order, world
from tests.settlement_factories import add_manifest, open_discrepancy, received_order


def _operator():
    user = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    return user, LicenceItemFactory(licence__org=user.org)


@pytest.mark.committed
def test_quotes_feed_each_change_once_and_only_ones_own(client, generator):
    op, item = _operator()
    mine = [QuoteFactory(request=DisposalRequestFactory(generator=generator.org),
                         licence_item=item) for _ in range(3)]
    QuoteFactory()  # someone else's request and operator
    stranger = UserFactory(org=OrganisationFactory(types=["generator", "operator"]))
    db.session.commit()
    ids = sorted(q.id for q in mine)
    got, gen_cursor = sync(client, bearer(generator), "/api/v1/quotes", None, limit=2)
    assert sorted(i["id"] for i in got) == ids
    assert {i["id"]: i["total_fen"] for i in got}[mine[0].id] == line_amount_fen(
        mine[0].unit_price_fen_per_t, mine[0].request.quantity_kg)
    op_got, op_cursor = sync(client, bearer(op), "/api/v1/quotes", None)
    assert sorted(i["id"] for i in op_got) == ids
    assert sync(client, bearer(stranger), "/api/v1/quotes", None)[0] == []
    quote_service.withdraw_quote(op, mine[1].id)
    again, _c = sync(client, bearer(generator), "/api/v1/quotes", gen_cursor)
    assert [(i["id"], i["status"]) for i in again] == [(mine[1].id, "withdrawn")]
    assert [i["id"] for i in sync(client, bearer(op), "/api/v1/quotes", op_cursor)[0]] == [mine[1].id]
    # the plain list: newest first, filtered by status
    plain = client.get("/api/v1/quotes?status=submitted", headers=bearer(generator)).get_json()
    assert [i["id"] for i in plain["items"]] == sorted({mine[0].id, mine[2].id}, reverse=True)
    resp = client.get("/api/v1/quotes?status=won", headers=bearer(generator))
    assert resp.status_code == 422 and error_of(resp)["field"] == "status"


@pytest.mark.committed
def test_manifests_feed_a_line_or_discrepancy_brings_the_manifest_back(
        client, generator, operator, other_generator, finance):
    order = received_order(generator.org, operator.org, weights=((1_000, 990), (1_000, 1_000)),
                           finance=finance)
    db.session.commit()
    got, cursor = sync(client, bearer(generator), "/api/v1/manifests", None, limit=1)
    assert len(got) == 2 and {i["order_id"] for i in got} == {order.id}
    first = next(i for i in got if i["lines"][0]["received_kg"] == 990)
    manifest = db.session.get(Manifest, first["id"])
    carrier = UserFactory(org=db.session.get(Organisation, manifest.carrier_org_id))
    db.session.commit()
    assert [i["id"] for i in sync(client, bearer(carrier), "/api/v1/manifests", None)[0]] == [
        first["id"]]
    assert sync(client, bearer(other_generator), "/api/v1/manifests", None)[0] == []
    open_discrepancy(manifest)  # a child row only: the manifest row itself is not written
    again, cursor = sync(client, bearer(operator), "/api/v1/manifests", cursor)
    assert [i["id"] for i in again] == [first["id"]]
    assert again[0]["lines"][0]["discrepancy"]["status"] == "open"
    with transaction():
        manifest.lines[0].received_kg = 980
    again, cursor = sync(client, bearer(operator), "/api/v1/manifests", cursor)
    assert [(i["id"], i["lines"][0]["received_kg"]) for i in again] == [(first["id"], 980)]
    assert sync(client, bearer(operator), "/api/v1/manifests", cursor)[0] == []
    newer = add_manifest(order, 500, status="draft")
    plain = client.get("/api/v1/manifests?limit=2", headers=bearer(generator)).get_json()
    assert plain["items"][0]["id"] == newer.id and plain["next"]


@pytest.mark.committed
def test_settlements_feed_and_the_certificate_brings_a_settlement_back(
        app, client, generator, operator, other_generator, finance):
    app.config["SETTLEMENT_RETENTION_BPS"] = 1_000
    try:
        order = received_order(generator.org, operator.org, finance=finance)
        unsettled = received_order(generator.org, operator.org, finance=finance)
        settlement.settle(order.id)
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    db.session.commit()
    got, cursor = sync(client, bearer(operator), "/api/v1/settlements", None)
    assert [(i["order_id"], i["status"], i["certificate_uploaded"]) for i in got] == [
        (order.id, "settled", False)]
    assert unsettled.id not in {i["order_id"] for i in got}
    assert got[0]["retained_fen"] == 30_000
    gen_got, gen_cursor = sync(client, bearer(generator), "/api/v1/settlements", None)
    assert [i["order_id"] for i in gen_got] == [order.id]
    assert sync(client, bearer(other_generator), "/api/v1/settlements", None)[0] == []
    settling.upload_certificate(operator, order.id, io.BytesIO(PDF), "证明.pdf")
    again, cursor = sync(client, bearer(operator), "/api/v1/settlements", cursor)
    assert [(i["order_id"], i["certificate_uploaded"], i["retained_fen"]) for i in again] == [
        (order.id, True, 0)]
    assert len(sync(client, bearer(generator), "/api/v1/settlements", gen_cursor)[0]) == 1
    assert sync(client, bearer(operator), "/api/v1/settlements", cursor)[0] == []


@pytest.mark.committed
def test_payables_feed_lists_each_posting_once(client, generator, operator, finance, regulator):
    order = received_order(generator.org, operator.org, weights=((2_000, 1_900),), finance=finance)
    settlement.settle(order.id)
    db.session.commit()
    got, cursor = sync(client, bearer(operator), "/api/v1/payables", None)
    assert [(i["kind"], i["order_id"]) for i in got] == [("release", order.id)]
    body = client.get("/api/v1/payables?updated_after=1970-01-01T00:00:00Z",
                      headers=bearer(operator)).get_json()
    assert body["balance_fen"] == got[0]["amount_fen"] > 0
    gen_got, _c = sync(client, bearer(generator), "/api/v1/payables", None)
    assert [(i["kind"], i["amount_fen"]) for i in gen_got] == [("refund", 15_000)]
    resp = client.post("/api/v1/finance/payouts", headers=bearer(finance),
                       json={"org_id": operator.org_id, "amount_fen": 100_000, "bank_ref": "F1"})
    assert resp.status_code == 201, resp.get_json()
    again, cursor = sync(client, bearer(operator), "/api/v1/payables", cursor)
    assert [(i["kind"], i["amount_fen"]) for i in again] == [("payout", -100_000)]
    assert again[0]["posting_id"] != got[0]["posting_id"]
    assert sync(client, bearer(operator), "/api/v1/payables", cursor)[0] == []
    resp = client.get("/api/v1/payables?updated_after=1970-01-01T00:00:00Z",
                      headers=bearer(regulator))
    assert resp.status_code == 404


@pytest.mark.committed
def test_alerts_feed_in_the_region_each_change_once(client, regulator):
    inside, outside = world("4403", "深圳"), world("4406", "佛山")
    stranger = UserFactory(org=inside.generator)
    db.session.commit()
    got, cursor = sync(client, bearer(regulator), "/api/v1/regulator/alerts", None)
    assert [i["id"] for i in got] == [inside.alert.id]
    assert outside.alert.id not in {i["id"] for i in got}
    resp = client.post(f"/api/v1/regulator/alerts/{inside.alert.id}", headers=bearer(regulator),
                       json={"status": "acknowledged"})
    assert resp.status_code == 200, resp.get_json()
    again, cursor = sync(client, bearer(regulator), "/api/v1/regulator/alerts", cursor)
    assert [(i["id"], i["status"]) for i in again] == [(inside.alert.id, "acknowledged")]
    assert sync(client, bearer(regulator), "/api/v1/regulator/alerts?status=open", None)[0] == []
    resp = client.get("/api/v1/regulator/alerts?updated_after=1970-01-01T00:00:00Z",
                      headers=bearer(stranger))
    assert resp.status_code == 403


@pytest.mark.committed
def test_quotes_feed_under_concurrent_writers(client, generator):
    _op, item = _operator()
    quotes = [QuoteFactory(request=DisposalRequestFactory(generator=generator.org),
                           licence_item=item, note="v0") for _ in range(12)]
    db.session.commit()

    def write(conn, row_id, version):
        conn.execute(text("UPDATE quote SET note = :n WHERE id = :i"),
                     {"n": f"v{version}", "i": row_id})

    seen_once_under_concurrent_writers(client, bearer(generator), "/api/v1/quotes",
                                       [q.id for q in quotes], write, lambda i: int(i["note"][1:]))


@pytest.mark.committed
def test_manifests_feed_under_concurrent_writers_of_their_lines(
        client, generator, operator, finance):
    order = received_order(generator.org, operator.org, weights=((100, 100),) * 12,
                           finance=finance)
    db.session.commit()
    ids = sorted(int(i) for i in db.session.scalars(
        text("SELECT id FROM manifest WHERE order_id = :o"), {"o": order.id}))
    with db.engine().begin() as conn:
        conn.execute(text("UPDATE manifest_line SET name = 'v0' WHERE manifest_id = ANY(:ids)"),
                     {"ids": ids})

    def write(conn, row_id, version):  # the manifest row itself is never written
        conn.execute(text("UPDATE manifest_line SET name = :n WHERE manifest_id = :i"),
                     {"n": f"v{version}", "i": row_id})

    seen_once_under_concurrent_writers(client, bearer(generator), "/api/v1/manifests", ids,
                                       write, lambda i: int(i["lines"][0]["name"][1:]))


@pytest.mark.committed
def test_rounds_feed_a_booking_brings_its_round_back_with_less_free_capacity(client):
    collecting = collector()
    rnd = publish(collecting)
    elsewhere = publish(collecting, region_codes=["440600"])
    generator = small_generator()
    db.session.commit()
    path = "/api/v1/collection-rounds?region=440306&category=HW08"
    got, cursor = sync(client, bearer(generator), path, None)
    assert [(i["id"], i["free_capacity_kg"]) for i in got] == [(rnd.id, 1_000)]
    assert elsewhere.id not in {i["id"] for i in got}
    assert sync(client, bearer(generator), "/api/v1/collection-rounds?category=HW17", None)[0] == []
    book_round(generator, rnd.id, booking_data(estimated_kg=300))
    again, cursor = sync(client, bearer(generator), path, cursor)
    assert [(i["id"], i["free_capacity_kg"]) for i in again] == [(rnd.id, 700)]
    assert sync(client, bearer(generator), path, cursor)[0] == []


@pytest.mark.committed
def test_an_orders_reviews_feed(client, generator, operator, other_generator, finance):
    order = settled_order(generator.org, operator.org, finance=finance)
    db.session.commit()
    path = f"/api/v1/orders/{order.id}/reviews"
    got, cursor = sync(client, bearer(operator), path, None)
    assert got == []
    resp = client.post(path, headers=bearer(generator),
                       json={"scores": {"on_time": 5, "as_agreed": 4, "communication": 5}})
    assert resp.status_code == 201, resp.get_json()
    again, cursor = sync(client, bearer(operator), path, cursor)
    assert [(i["side"], i["scores"]["as_agreed"]) for i in again] == [("generator", 4)]
    assert sync(client, bearer(operator), path, cursor)[0] == []
    resp = client.get(f"{path}?updated_after=1970-01-01T00:00:00Z", headers=bearer(other_generator))
    assert resp.status_code == 404


@pytest.mark.committed
def test_regulator_settlements_feed_brings_a_settlement_back_with_its_lines(
        app, client, regulator):
    app.config["SETTLEMENT_RETENTION_BPS"] = 1_000
    try:
        inside, outside = world("4403", "深圳"), world("4406", "佛山")
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    operator = UserFactory(org=inside.operator)
    db.session.commit()
    path = "/api/v1/regulator/settlements"
    got, cursor = sync(client, bearer(regulator), path, None)
    assert {i["order_number"] for i in got} == {inside.order.number}
    assert all(i["retained_fen"] > 0 for i in got if i["kind"] == "disposal")
    settling.upload_certificate(operator, inside.order.id, io.BytesIO(PDF), "证明.pdf")
    again, cursor = sync(client, bearer(regulator), path, cursor)
    assert {i["order_number"] for i in again} == {inside.order.number}
    assert [i["id"] for i in again] == [i["id"] for i in got]
    assert sync(client, bearer(regulator), path, cursor)[0] == []
