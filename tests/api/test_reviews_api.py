"""POST/GET /orders/{id}/reviews: field-named refusals that change nothing, idempotent writes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db
from market.reviews.models import Review
from tests.api.conftest import bearer, error_of
from tests.escrow_factories import make_order
from tests.factories import OrganisationFactory, UserFactory

GEN = {"on_time": 5, "as_agreed": 4, "communication": 4}


def _reviews() -> int:
    return db.session.scalar(select(func.count()).select_from(Review))


@pytest.fixture
def settled():
    return make_order(status="settled")


def test_both_parties_review_and_read(client, settled):
    gen, op = bearer(UserFactory(org=settled.generator)), bearer(UserFactory(org=settled.operator))
    assert "review" in client.get(f"/api/v1/orders/{settled.id}", headers=gen).get_json()["actions"]
    resp = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=gen,
                       json={"scores": GEN, "comment": "按时清运"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["side"], body["subject_org_id"], body["scores"], body["comment"]) == (
        "generator", settled.operator_id, GEN, "按时清运")
    resp = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=op,
                       json={"scores": {"as_declared": 3, "payment": 5}})
    assert resp.status_code == 201
    items = client.get(f"/api/v1/orders/{settled.id}/reviews", headers=gen).get_json()["items"]
    assert "review" not in client.get(f"/api/v1/orders/{settled.id}", headers=gen).get_json()["actions"]
    assert [i["side"] for i in items] == ["generator", "operator"]
    again = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=op,
                        json={"scores": {"as_declared": 3, "payment": 5}})
    assert again.status_code == 409 and error_of(again)["code"] == "already_reviewed"
    assert _reviews() == 2


def test_a_repeated_idempotency_key_replays_the_review(client, settled):
    headers = {**bearer(UserFactory(org=settled.generator)), "Idempotency-Key": "review-1"}
    first = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=headers, json={"scores": GEN})
    second = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=headers, json={"scores": GEN})
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true" and second.get_json() == first.get_json()
    other = client.post(f"/api/v1/orders/{settled.id}/reviews", headers=headers,
                        json={"scores": {**GEN, "on_time": 1}})
    assert other.status_code == 409 and error_of(other)["code"] == "idempotency_conflict"
    assert _reviews() == 1


@pytest.mark.parametrize("who,body,status,code,field", [
    ("generator", {"scores": {**GEN, "payment": 5}}, 422, "invalid_score", "scores.payment"),
    ("operator", {"scores": GEN}, 422, "invalid_score", "scores.as_agreed"),
    ("generator", {"scores": {**GEN, "on_time": 6}}, 422, "invalid_score", "scores.on_time"),
    ("generator", {"scores": {**GEN, "on_time": 0}}, 422, "invalid_score", "scores.on_time"),
    ("generator", {"scores": {**GEN, "as_agreed": 3.5}}, 422, "invalid_score", "scores.as_agreed"),
    ("generator", {"scores": {"on_time": 5}}, 422, "invalid_score", "scores.as_agreed"),
    ("generator", {"scores": [5, 4, 4]}, 422, "validation_failed", "scores"),
    ("generator", {"comment": "no scores"}, 422, "validation_failed", "scores"),
    ("generator", {"scores": GEN, "comment": 5}, 422, "validation_failed", "comment"),
])
def test_bad_input_names_the_field_and_changes_nothing(client, settled, who, body, status, code, field):
    org = settled.generator if who == "generator" else settled.operator
    resp = client.post(f"/api/v1/orders/{settled.id}/reviews", json=body,
                       headers={**bearer(UserFactory(org=org)), "Accept-Language": "en"})
    assert resp.status_code == status
    err = error_of(resp)
    assert (err["code"], err["field"]) == (code, field)
    assert field.split(".")[-1] in err["message"]
    assert _reviews() == 0


def test_messages_follow_the_callers_language(client, settled):
    resp = client.post(f"/api/v1/orders/{settled.id}/reviews", json={"scores": {**GEN, "on_time": 9}},
                       headers={**bearer(UserFactory(org=settled.generator)), "Accept-Language": "zh-CN"})
    assert "1" in error_of(resp)["message"] and "之间" in error_of(resp)["message"]


def test_before_settlement_strangers_and_staff(client, admin):
    funded = make_order(status="funded")
    resp = client.post(f"/api/v1/orders/{funded.id}/reviews", json={"scores": GEN},
                       headers=bearer(UserFactory(org=funded.generator)))
    assert resp.status_code == 409 and error_of(resp)["code"] == "order_not_settled"
    settled = make_order(status="settled")
    stranger = bearer(UserFactory(org=OrganisationFactory(types=["generator"])))
    assert client.post(f"/api/v1/orders/{settled.id}/reviews", json={"scores": GEN},
                       headers=stranger).status_code == 404
    assert client.get(f"/api/v1/orders/{settled.id}/reviews", headers=stranger).status_code == 404
    resp = client.post(f"/api/v1/orders/{settled.id}/reviews", json={"scores": GEN}, headers=bearer(admin))
    assert resp.status_code == 403 and error_of(resp)["code"] == "not_a_party"
    assert _reviews() == 0
