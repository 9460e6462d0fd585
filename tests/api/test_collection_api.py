"""The collection endpoints of DESIGN.md §9: publish, find, book, pay by bank reference, start,
pick up (one no-show), receive the trip, each booking settled; refusals name the field and change
nothing; writes are idempotent."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from market import db
from market.collection.models import Booking, CollectionRound
from market.collection.run import manifest_of
from market.orders import lifecycle
from market.orders.models import Order
from tests.api.conftest import bearer, error_of
from tests.collection_factories import (booking_data, close_booking_window, collector, round_data,
                                        small_generator)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_whole_round_through_the_api(client, finance, app):
    op, shop, lab = collector(), small_generator("440605"), small_generator("440305")
    oh = bearer(op)
    resp = client.post("/api/v1/collection-rounds", json=round_data(repeat="weekly"), headers=oh)
    assert resp.status_code == 201, resp.get_json()
    rnd = resp.get_json()
    assert len(rnd["repeats"]) == 3 and rnd["free_capacity_kg"] == 1_000
    found = client.get("/api/v1/collection-rounds?region=440605&category=HW08",
                       headers=bearer(shop)).get_json()
    assert rnd["id"] in [x["id"] for x in found["items"]] and found["next"] is None
    assert client.get("/api/v1/collection-rounds?region=440106",
                      headers=bearer(shop)).get_json()["items"] == []
    sh = {**bearer(shop), "Idempotency-Key": "book-1"}
    resp = client.post(f"/api/v1/collection-rounds/{rnd['id']}/bookings",
                       json=booking_data(region_code="440605", address="佛山市南海区汽修路1号"),
                       headers=sh)
    assert resp.status_code == 201, resp.get_json()
    b1 = resp.get_json()
    assert b1["status"] == "awaiting_payment" and b1["amount_fen"] == 24_000 and b1["reference"]
    again = client.post(f"/api/v1/collection-rounds/{rnd['id']}/bookings",
                        json=booking_data(region_code="440605", address="佛山市南海区汽修路1号"),
                        headers=sh)
    assert again.get_json()["id"] == b1["id"] and _count(Booking) == 1
    b2 = client.post(f"/api/v1/collection-rounds/{rnd['id']}/bookings",
                     json=booking_data(region_code="440305", estimated_kg=30),
                     headers=bearer(lab)).get_json()
    for b in (b1, b2):
        lifecycle.confirm_receipt(finance, reference=b["reference"], amount_fen=b["amount_fen"],
                                  received_on=date.today(), payer_name="付款单位",
                                  bank_ref=f"B-{b['id']}")
    assert client.get(f"/api/v1/bookings/{b1['id']}", headers=bearer(shop)).get_json()[
        "status"] == "booked"
    assert client.get(f"/api/v1/bookings/{b1['id']}", headers=bearer(lab)).status_code == 404
    close_booking_window(db.session.get(CollectionRound, rnd["id"]))
    start = {"vehicle_plate": "粤E12345", "driver_name": "李师傅", "driver_phone": "13800138000"}
    resp = client.post(f"/api/v1/collection-rounds/{rnd['id']}/start", json=start, headers=oh)
    assert resp.status_code == 200, resp.get_json()
    assert len(resp.get_json()["manifest_ids"]) == 2
    twice = client.post(f"/api/v1/collection-rounds/{rnd['id']}/start", json=start, headers=oh)
    assert twice.status_code == 409 and error_of(twice)["code"] == "already_started"
    resp = client.post(f"/api/v1/bookings/{b1['id']}/pickup", json={"weighed_kg": 96},
                       headers=oh)
    assert resp.status_code == 200 and resp.get_json()["weighed_kg"] == 96
    mid = manifest_of(db.session.get(Booking, b1["id"])).id
    assert client.post(f"/api/v1/manifests/{mid}/sign", json={"role": "generator"},
                       headers=bearer(shop)).status_code == 200
    resp = client.post(f"/api/v1/bookings/{b2['id']}/pickup", json={"no_show": True},
                       headers=oh)
    assert resp.status_code == 422 and error_of(resp)["field"] == "note"
    resp = client.post(f"/api/v1/bookings/{b2['id']}/pickup",
                       json={"no_show": True, "note": "无人"}, headers=oh)
    assert resp.get_json()["status"] == "no_show"
    bad = client.post(f"/api/v1/collection-rounds/{rnd['id']}/receive", headers=oh, json={
        "method_code": "R9", "bookings": [{"booking_id": b2["id"], "received_kg": 10}]})
    assert bad.status_code == 409 and error_of(bad)["field"] == "bookings[0].booking_id"
    resp = client.post(f"/api/v1/collection-rounds/{rnd['id']}/receive", headers=oh, json={
        "method_code": "R9", "bookings": [{"booking_id": b1["id"], "received_kg": 96}]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["round"]["status"] == "received"
    # 96 kg × ¥3 = ¥288 > ¥240 paid: a ¥48 top-up first
    got = {b["id"]: b for b in body["bookings"]}
    assert got[b1["id"]]["topup_fen"] == 4_800


def test_bad_input_names_the_field_and_changes_nothing(client):
    op, shop = collector(), small_generator("440605")
    rnd = client.post("/api/v1/collection-rounds", json=round_data(),
                      headers=bearer(op)).get_json()
    before = (_count(Booking), _count(Order))
    for data, field in [({"estimated_kg": "80"}, "estimated_kg"),
                        ({"region_code": "110101"}, "region_code"),
                        ({"category": "HW49", "waste_code": None}, "category"),
                        ({"estimated_kg": 5_000}, "estimated_kg"),
                        ({"containers": 0}, "containers")]:
        resp = client.post(f"/api/v1/collection-rounds/{rnd['id']}/bookings",
                           json=booking_data(**data), headers=bearer(shop))
        assert resp.status_code in (409, 422), (data, resp.get_json())
        assert error_of(resp)["field"] == field
    assert (_count(Booking), _count(Order)) == before
    resp = client.post("/api/v1/collection-rounds", json=round_data(categories=["HW49"]),
                       headers=bearer(op))
    assert resp.status_code == 422 and error_of(resp)["code"] == "collection_not_licensed"
    resp = client.post("/api/v1/collection-rounds", json=round_data(), headers=bearer(shop))
    assert resp.status_code == 403
