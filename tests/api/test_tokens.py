"""GET /api/v1/auth/tokens, DELETE /api/v1/auth/tokens/{id}, DELETE /api/v1/auth/token."""
from __future__ import annotations

from sqlalchemy import func, select

from market import db
from market.accounts.models import ApiToken
from market.audit.models import AuditEvent
from tests.api.conftest import bearer, error_of
from tests.factories import UserFactory


def revoked() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken)
                             .where(ApiToken.revoked_at.is_not(None)))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def token_ids(user) -> list[int]:
    return list(db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id)))


def test_list_shows_only_the_callers_valid_tokens_and_marks_the_current_one(client, generator):
    other = bearer(generator)
    headers = bearer(generator)
    bearer(UserFactory())  # someone else's
    first, second = token_ids(generator)
    assert client.delete(f"/api/v1/auth/tokens/{first}", headers=other).status_code == 200
    resp = client.get("/api/v1/auth/tokens", headers=headers)
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert [(t["id"], t["current"]) for t in items] == [(second, True)]
    assert set(items[0]) == {"id", "created_at", "expires_at", "current"}
    assert "token" not in items[0]


def test_revoking_a_token_stops_it_at_once(client, generator):
    doomed = bearer(generator)
    headers = bearer(generator)
    doomed_id = token_ids(generator)[0]
    before = audit_count()
    resp = client.delete(f"/api/v1/auth/tokens/{doomed_id}", headers=headers)
    assert resp.status_code == 200 and resp.get_json() == {"revoked": doomed_id}
    assert client.get("/api/v1/me", headers=doomed).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert audit_count() == before + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.actor_user_id) == \
        ("api_token.revoked", str(doomed_id), generator.id)


def test_revoking_twice_or_anothers_token_is_404_and_changes_nothing(client, generator):
    headers = bearer(generator)
    victim = UserFactory()
    victim_headers = bearer(victim)
    (victim_token,) = token_ids(victim)
    before = (revoked(), audit_count())
    for token_id in (victim_token, 999_999):
        resp = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=headers)
        assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    assert (revoked(), audit_count()) == before
    assert client.get("/api/v1/me", headers=victim_headers).status_code == 200


def test_revoke_is_idempotent_with_a_key(client, generator):
    bearer(generator)
    headers = {**bearer(generator), "Idempotency-Key": "revoke-1"}
    first = token_ids(generator)[0]
    one = client.delete(f"/api/v1/auth/tokens/{first}", headers=headers)
    two = client.delete(f"/api/v1/auth/tokens/{first}", headers=headers)
    assert one.status_code == two.status_code == 200
    assert two.headers.get("Idempotent-Replayed") == "true" and two.get_json() == one.get_json()
    assert revoked() == 1


def test_revoking_the_calling_token_logs_out_of_the_api(client, generator):
    headers = bearer(generator)
    keep = bearer(generator)
    mine = token_ids(generator)[0]
    resp = client.delete("/api/v1/auth/token", headers=headers)
    assert resp.status_code == 200 and resp.get_json() == {"revoked": mine}
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=keep).status_code == 200
    assert revoked() == 1


def test_token_routes_need_a_token(client):
    assert client.get("/api/v1/auth/tokens").status_code == 401
    assert client.delete("/api/v1/auth/token").status_code == 401
    assert client.delete("/api/v1/auth/tokens/1").status_code == 401


def test_regulators_may_revoke_their_own_tokens(client, regulator):
    headers = bearer(regulator)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 200
