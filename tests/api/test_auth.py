"""POST /api/v1/auth/token and bearer-token authentication."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from flask import g
from flask_login import current_user
from sqlalchemy import func, select

from market import db
from market.accounts.models import ApiToken
from market.api.auth import resolve_bearer_token
from market.audit.models import AuditEvent
from market.db import utcnow
from tests.api.conftest import bearer, error_of
from tests.factories import PASSWORD, UserFactory
from tests.fixtures import login

URL = "/api/v1/auth/token"


def _tokens() -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken))


def test_issue_token_stores_only_its_hash_and_expires_per_config(app, client, generator):
    before = utcnow()
    resp = client.post(URL, json={"email": generator.email.upper(), "password": PASSWORD})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"token", "expires_at"}
    token = body["token"]
    assert len(token) >= 40
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == generator.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    hours = timedelta(hours=app.config["API_TOKEN_HOURS"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == row.expires_at
    assert before + hours <= expires <= utcnow() + hours
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.issued")).all()
    assert [(a.actor_user_id, a.object_id) for a in audit] == [(generator.id, str(row.id))]
    assert token not in str(audit[0].changes)

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "id": generator.id, "email": generator.email, "name": generator.name, "role": "generator",
        "org": {"id": generator.org.id, "name": generator.org.name, "types": ["generator"],
                "region_code": "440306", "status": "verified"}}


@pytest.mark.parametrize("email,password", [
    ("known", "wrong-password-123"),
    ("nobody@example.cn", PASSWORD),
])
def test_wrong_credentials_are_401_and_issue_nothing(client, generator, email, password):
    resp = client.post(URL, json={"email": generator.email if email == "known" else email,
                                  "password": password})
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"
    assert _tokens() == 0


def test_inactive_user_gets_no_token(client):
    user = UserFactory(active=False)
    resp = client.post(URL, json={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 401
    assert _tokens() == 0


@pytest.mark.parametrize("body,field", [
    ({"password": PASSWORD}, "email"),
    ({"email": "  ", "password": PASSWORD}, "email"),
    ({"email": 42, "password": PASSWORD}, "email"),
    ({"email": "a" * 250 + "@x.cn", "password": PASSWORD}, "email"),
    ({"email": "a@x.cn"}, "password"),
    ({"email": "a@x.cn", "password": ["x"]}, "password"),
    ({"email": "a@x.cn", "password": "p" * 201}, "password"),
    ({"email": "a\x00@x.cn", "password": PASSWORD}, "email"),
    ({"email": "a@x.cn", "password": "pass\x00word-1234"}, "password"),
])
def test_bad_token_request_names_the_field(client, body, field):
    resp = client.post(URL, json=body)
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["code"] == "validation_failed" and err["field"] == field
    assert field in err["message"]
    assert _tokens() == 0


@pytest.mark.parametrize("data", [b"", b"not json", b"[1, 2]", b'"a string"'])
def test_token_request_body_must_be_a_json_object(client, data):
    resp = client.post(URL, data=data, content_type="application/json")
    assert resp.status_code == 400
    assert error_of(resp)["code"] == "bad_request"


def test_token_requests_are_rate_limited_per_ip(app, client, generator, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "3 per minute")
    for _ in range(3):
        resp = client.post(URL, json={"email": generator.email, "password": "nope-nope-nope"})
        assert resp.status_code == 401
    resp = client.post(URL, json={"email": "other@example.cn", "password": PASSWORD})
    assert resp.status_code == 429
    assert error_of(resp)["code"] == "rate_limited"
    assert 0 < int(resp.headers["Retry-After"]) <= 60
    assert _tokens() == 0
    # Another address, asking for another account, is not affected.
    other = UserFactory()
    ok = client.post(URL, json={"email": other.email, "password": PASSWORD},
                     environ_overrides={"REMOTE_ADDR": "10.9.9.9"})
    assert ok.status_code == 200


def test_token_requests_are_rate_limited_per_email_across_ips(app, client, generator, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", "3 per 15 minutes")
    for i in range(3):
        resp = client.post(URL, json={"email": generator.email, "password": "nope-nope-nope"},
                           environ_overrides={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        assert resp.status_code == 401
    resp = client.post(URL, json={"email": f"  {generator.email.upper()} ", "password": PASSWORD},
                       environ_overrides={"REMOTE_ADDR": "10.0.0.99"})
    assert resp.status_code == 429
    assert _tokens() == 0
    # A different account from a fresh address still gets through.
    other = UserFactory()
    ok = client.post(URL, json={"email": other.email, "password": PASSWORD},
                     environ_overrides={"REMOTE_ADDR": "10.0.0.100"})
    assert ok.status_code == 200


@pytest.mark.parametrize("header", [
    None,
    "Bearer",
    "Bearer ",
    "Bearer not-a-token",
    "Basic dXNlcjpwYXNz",
    "Token abc",
])
def test_missing_or_garbage_token_is_401(client, generator, header):
    bearer(generator)  # a valid token exists, but is not the one sent
    headers = {"Authorization": header} if header is not None else {}
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(client, generator):
    headers = bearer(generator)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    db.session.execute(ApiToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"


def test_token_of_deactivated_user_is_401(client, generator):
    headers = bearer(generator)
    generator.active = False
    db.session.flush()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_scheme_is_case_insensitive(client, generator):
    token = bearer(generator)["Authorization"].split(" ", 1)[1]
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_session_cookie_does_not_authenticate_the_api(client, generator):
    login(client, generator)
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401


def test_token_sets_flask_login_current_user(app, generator):
    """Audit and permission code read flask-login's current_user; the API user must be it."""
    headers = bearer(generator)
    with app.test_request_context("/api/v1/me", headers=headers):
        assert resolve_bearer_token() is None
        assert g.api_user.id == generator.id
        assert current_user.is_authenticated and current_user.id == generator.id


def test_public_endpoints_need_no_token_and_ignore_a_bad_one(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    resp = client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer garbage"})
    assert resp.status_code == 200


def test_unknown_api_route_and_method_use_the_error_format(client, gen_headers):
    resp = client.get("/api/v1/no-such-thing", headers=gen_headers)
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    resp = client.get(URL)
    assert resp.status_code == 405 and error_of(resp)["code"] == "method_not_allowed"
