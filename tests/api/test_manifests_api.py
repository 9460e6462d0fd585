"""Manifests over the API: draft, sign (login and driver code without a token), receive,
discrepancies; idempotent writes and field-named errors that change nothing."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from market import db
from market.manifests.models import Manifest, ManifestSignature
from market.notifications.models import EmailMessage
from market.oversight.models import Alert
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import make_order
from tests.manifest_factories import carrier_user, funded_order, manifest_data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _code() -> str:
    body = db.session.scalar(select(EmailMessage.body).order_by(EmailMessage.id.desc()).limit(1))
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_manifest_through_its_life(client, generator, operator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    gen, car, op = bearer(generator), bearer(carrier), bearer(operator)
    resp = client.post(f"/api/v1/orders/{order.id}/manifests",
                       json=manifest_data(carrier.org, 1_000),
                       headers={**gen, "Idempotency-Key": "m-1"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    again = client.post(f"/api/v1/orders/{order.id}/manifests", json=manifest_data(carrier.org, 1_000),
                        headers={**gen, "Idempotency-Key": "m-1"})
    assert again.get_json() == body and count(Manifest) == 1
    mid = body["id"]
    assert body["status"] == "draft" and body["actions"] == ["sign_as_generator", "cancel",
                                                             "download_pdf"]
    assert client.get(f"/api/v1/manifests/{mid}", headers=car).get_json()["actions"] == [
        "sign_as_carrier", "request_driver_code", "download_pdf"]
    resp = client.post(f"/api/v1/manifests/{mid}/sign", json={"role": "generator"}, headers=gen)
    assert resp.status_code == 200 and resp.get_json()["status"] == "draft"
    resp = client.post(f"/api/v1/manifests/{mid}/driver-code", json={}, headers=car)
    assert resp.status_code == 200 and resp.get_json()["sent_to"] == "driver@example.cn"
    resp = client.post(f"/api/v1/manifests/{mid}/sign", json={"driver_code": _code()})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"id": mid, "number": body["number"], "status": "shipped"}
    line_id = body["lines"][0]["id"]
    resp = client.post(f"/api/v1/manifests/{mid}/receive", headers=op, json={
        "method_code": "R9", "lines": [{"line_id": line_id, "received_kg": 920, "refused_kg": 0,
                                        "comment": "含水率下降"}]})
    assert resp.status_code == 200, resp.get_json()
    got = resp.get_json()
    assert got["status"] == "received" and got["lines"][0]["discrepancy"]["status"] == "open"
    assert client.get(f"/api/v1/orders/{order.id}", headers=gen).get_json()["status"] == "received"
    seen = client.get(f"/api/v1/manifests/{mid}", headers=gen).get_json()
    assert seen["actions"] == ["confirm_discrepancy", "dispute_discrepancy", "download_pdf"]
    assert [s["method"] for s in seen["signatures"]] == ["login", "driver_code", "login"]
    resp = client.post(f"/api/v1/manifests/{mid}/discrepancies/{line_id}",
                       json={"action": "confirm"}, headers=gen)
    assert resp.status_code == 200 and resp.get_json()["status"] == "confirmed"


def test_refusals_name_the_field_and_change_nothing(client, generator, operator, other_generator,
                                                    regulator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    gen = bearer(generator)
    url = f"/api/v1/orders/{order.id}/manifests"
    cases = [({"vehicle_plate": "ABC"}, 422, "vehicle_plate"),
             ({"driver_phone": "555"}, 422, "driver_phone"),
             ({"lines": [{"quantity_kg": 0}]}, 422, "lines[0].quantity_kg"),
             ({"lines": [{"quantity_kg": 5_000}]}, 422, "lines")]
    for extra, status, field in cases:
        resp = client.post(url, json=manifest_data(carrier.org, **extra), headers=gen)
        assert resp.status_code == status, (extra, resp.get_json())
        assert error_of(resp)["field"] == field
    assert client.post(url, json=manifest_data(carrier.org), headers=bearer(other_generator)
                       ).status_code == 404
    assert client.post(url, json=manifest_data(carrier.org), headers=bearer(operator)
                       ).status_code == 403
    assert client.post(url, json=manifest_data(carrier.org), headers=bearer(regulator)
                       ).status_code == 403
    assert count(Manifest) == 0
    unfunded = make_order(generator.org, operator.org)
    resp = client.post(f"/api/v1/orders/{unfunded.id}/manifests", json=manifest_data(carrier.org),
                       headers={**gen, "Idempotency-Key": "unfunded"})
    assert resp.status_code == 409 and error_of(resp)["code"] == "order_not_funded"
    assert count(Manifest) == 0 and count(Alert) == 1


def test_signing_needs_a_token_or_a_code(client, generator, operator, finance):
    carrier = carrier_user()
    order = funded_order(generator.org, operator.org, finance)
    mid = client.post(f"/api/v1/orders/{order.id}/manifests", json=manifest_data(carrier.org),
                      headers=bearer(generator)).get_json()["id"]
    resp = client.post(f"/api/v1/manifests/{mid}/sign", json={"role": "generator"})
    assert resp.status_code == 401
    resp = client.post(f"/api/v1/manifests/{mid}/sign", json={"driver_code": "123456"})
    assert resp.status_code == 403 and error_of(resp)["field"] == "driver_code"
    resp = client.post(f"/api/v1/manifests/{mid}/sign", json={"role": "carrier"},
                       headers=bearer(generator))
    assert resp.status_code == 403
    assert client.get(f"/api/v1/manifests/{mid}").status_code == 401
    assert count(ManifestSignature) == 0
