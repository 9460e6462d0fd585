"""The regulator API: the settlement feed (JSON paged and CSV agree with the ledger to the fen),
the alerts queue and its notes, sanctions; every refusal changes nothing."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.escrow.models import Movement
from market.ledger.queries import entry_lines
from market.oversight.feed import neutralise
from market.oversight.models import Alert, Sanction
from market.settlement.models import SettlementLine
from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory
from tests.oversight_factories import settled_order, world

API = "/api/v1/regulator"
TODAY = date.today()
RANGE = {"from": (TODAY - timedelta(days=1)).isoformat(), "to": TODAY.isoformat()}


@pytest.fixture
def shenzhen():
    w = world("4403", "深圳")
    carrier = OrganisationFactory(types=["carrier"], region_code="440106")
    # A second order with a transport line paid to a carrier, and a negative price (the
    # operator pays for valuable waste).
    settled_order(w.generator, w.operator, kg=3_333, price=123_457, transport_fen=80_000,
                  carrier_org=carrier)
    settled_order(w.generator, w.operator, kg=1_500, price=-40_000)
    world("4406", "佛山")
    return w


def counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (AuditEvent, Sanction))


def ledger_of(line_id: int) -> dict[str, int]:
    """What the ledger says was released for an order line, summed over its release entries."""
    sums: dict[str, int] = {}
    for (entry_id,) in db.session.execute(select(Movement.entry_id).where(
            Movement.kind == "release", Movement.line_id == line_id)):
        for code, fen in entry_lines(entry_id):
            kind = code.split(":")[0]
            sums[kind] = sums.get(kind, 0) + fen
    return sums


def test_feed_json_and_csv_agree_with_the_ledger_to_the_fen(client, regulator, shenzhen):
    headers = bearer(regulator)
    items, cursor = [], None
    while True:
        resp = client.get(f"{API}/settlements", headers=headers,
                          query_string={**RANGE, "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        items += body["items"]
        cursor = body["next"]
        if cursor is None:
            break
    assert len(items) == 4  # three Shenzhen orders: disposal ×3 + transport; nothing of Foshan
    assert {i["generator_region"][:4] for i in items} == {"4403"}
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    assert all(i["manifest_numbers"] for i in items)
    for i in items:
        led = ledger_of(db.session.get(SettlementLine, i["id"]).line_id)
        assert i["released_fen"] == i["value_fen"] - i["retained_fen"]
        assert -led.get("revenue", 0) == i["fee_fen"], i
        if i["kind"] == "disposal" and i["unit_price_fen_per_t"] < 0:
            # The operator pays: the generator is paid the value, the fee comes on top.
            assert led["escrow"] == i["value_fen"] + i["fee_fen"]
            assert -led["payable"] == i["value_fen"]
        else:
            assert led["escrow"] == i["value_fen"]
            assert -led["payable"] == i["value_fen"] - i["fee_fen"]
    csv_resp = client.get(f"{API}/settlements.csv", headers=headers, query_string=RANGE)
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(csv_resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == len(items)
    for row, item in zip(rows, items):
        for col in ("id", "accepted_kg", "unit_price_fen_per_t", "value_fen", "fee_fen",
                    "retained_fen", "released_fen"):
            assert (int(row[col]) if row[col] else None) == item[col], col
        assert row["order_number"] == item["order_number"]
        assert row["manifest_numbers"].split() == item["manifest_numbers"]
    assert sum(int(r["value_fen"]) for r in rows) == sum(i["value_fen"] for i in items)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert neutralise("+86 1") == "'+86 1" and neutralise("-x") == "'-x" and neutralise("@a") == "'@a"
    assert neutralise(-40000) == "-40000"  # numbers stay numbers
    assert neutralise("深圳") == "深圳" and neutralise(None) == ""


def test_feed_refuses_bad_ranges(client, regulator):
    headers = bearer(regulator)
    for query, field in (({"from": "2026-13-01"}, "from"), ({"to": "x"}, "to"),
                         ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
                         ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
                         ({"cursor": "!!"}, "cursor")):
        resp = client.get(f"{API}/settlements", headers=headers, query_string=query)
        assert resp.status_code == 422 and error_of(resp)["field"] == field, query


def test_alerts_queue_acknowledge_then_close_with_a_note(client, regulator, shenzhen):
    headers = {**bearer(regulator), "Idempotency-Key": "a1"}
    listed = client.get(f"{API}/alerts", headers=headers).get_json()["items"]
    assert [a["id"] for a in listed] == [shenzhen.alert.id]
    path = f"{API}/alerts/{shenzhen.alert.id}"
    before = counts()
    resp = client.post(path, json={"status": "closed"}, headers={**headers, "Idempotency-Key": "a2"})
    assert resp.status_code == 422 and error_of(resp)["field"] == "note"
    resp = client.post(path, json={"status": "reopened", "note": "x"},
                       headers={**headers, "Idempotency-Key": "a3"})
    assert resp.status_code == 422 and error_of(resp)["field"] == "status"
    assert counts() == before and db.session.get(Alert, shenzhen.alert.id).status == "open"
    resp = client.post(path, json={"status": "acknowledged"}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "acknowledged"
    resp = client.post(path, json={"status": "closed", "note": "现场核查：已补缴"},
                       headers={**headers, "Idempotency-Key": "a4"})
    assert resp.status_code == 200
    assert (resp.get_json()["status"], resp.get_json()["note"]) == ("closed", "现场核查：已补缴")
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "oversight_alert", AuditEvent.object_id == str(shenzhen.alert.id))
        .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["alert.acknowledged", "alert.closed"]
    resp = client.post(path, json={"status": "closed", "note": "again"},
                       headers={**headers, "Idempotency-Key": "a5"})
    assert resp.status_code == 409
    closed = client.get(f"{API}/alerts?status=closed", headers=headers).get_json()["items"]
    assert [a["id"] for a in closed] == [shenzhen.alert.id]


def test_only_regulators_handle_alerts(client, generator, shenzhen):
    resp = client.post(f"{API}/alerts/{shenzhen.alert.id}", json={"status": "acknowledged"},
                       headers={**bearer(generator), "Idempotency-Key": "g1"})
    assert resp.status_code in (403, 404)
    assert client.get(f"{API}/alerts", headers=bearer(generator)).status_code == 403
    assert db.session.get(Alert, shenzhen.alert.id).status == "open"


def test_sanction_by_a_regulator_of_the_region(client, regulator, shenzhen):
    headers = {**bearer(regulator), "Idempotency-Key": "s1"}
    body = {"org_id": shenzhen.operator.id, "kind": "blacklist", "reason": "超范围经营",
            "valid_from": TODAY.isoformat(), "valid_to": (TODAY + timedelta(days=90)).isoformat()}
    before = counts()
    for bad, field in (({"kind": "fine"}, "kind"), ({"reason": " "}, "reason"),
                       ({"valid_to": "2020-01-01"}, "valid_to"), ({"valid_from": "x"}, "valid_from"),
                       ({"org_id": "7"}, "org_id")):
        resp = client.post(f"{API}/sanctions", json={**body, **bad},
                           headers={**headers, "Idempotency-Key": f"bad-{field}"})
        assert resp.status_code == 422 and error_of(resp)["field"] == field, bad
    assert counts() == before
    resp = client.post(f"{API}/sanctions", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["org_id"] == shenzhen.operator.id
    db.session.expire_all()
    assert shenzhen.operator.credit_score == 50
