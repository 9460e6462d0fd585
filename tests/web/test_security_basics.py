"""CSRF refusal, session cookie flags, production configuration and the demo-seed guard."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from market import create_app, db
from market.accounts.models import Licence, Organisation, User
from market.audit.models import AuditEvent
from market.config import ConfigError, load_config
from market.demo import credit_code
from tests.factories import PASSWORD

CSRF_MESSAGE = "The form expired or was not sent from this site"
COUNTED = (Organisation, User, Licence, AuditEvent)





def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no csrf_token input on {path}"
    return match.group(1)


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def registration() -> dict:
    return {"name": "CSRF 测试有限公司", "credit_code": credit_code("440306", "CRF000001"),
            "types": ["generator"], "region_code": "440306", "address": "深圳", "user_name": "赵六",
            "email": "zhao@example.cn", "password": "long-enough-pw"}


def licence_form() -> dict:
    return {"number": "CSRF-LIC-1", "kind": "comprehensive", "valid_from": "2025-01-01",
            "valid_to": "2029-12-31", "scan": (io.BytesIO(b"%PDF-1.4 test"), "scan.pdf")}


def login_with_token(client, user):
    token = csrf_token(client, "/login")
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client


# --- CSRF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, "forged-token"])
def test_posts_without_valid_token_are_refused(csrf_app, en, generator, operator, token):
    db.session.commit()
    before = counts()
    extra = {} if token is None else {"csrf_token": token}
    cases = [
        ("/login", {"email": generator.email, "password": PASSWORD}),
        ("/register", registration()),
        ("/language", {"locale": "en"}),
    ]
    for path, data in cases:
        resp = en.post(path, data={**data, **extra})
        assert resp.status_code == 400, path
        assert CSRF_MESSAGE in resp.get_data(as_text=True), path
    with en.session_transaction() as session:
        assert "_user_id" not in session and "locale" not in session
    assert counts() == before  # no organisation, user, licence or audit row from a forged post

    login_with_token(en, operator)
    before = counts()
    resp = en.post("/account/licences", data={**licence_form(), **extra},
                   content_type="multipart/form-data")
    assert resp.status_code == 400 and CSRF_MESSAGE in resp.get_data(as_text=True)
    assert counts() == before


def test_csrf_refusal_is_json_for_api_style_clients(csrf_app, en):
    resp = en.post("/login", data={"email": "a@b.cn", "password": "x"},
                   headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"


def test_token_from_the_page_is_accepted(csrf_app, en, operator):
    db.session.commit()
    token = csrf_token(en, "/register")
    resp = en.post("/register", data={**registration(), "csrf_token": token})
    assert resp.status_code == 302
    assert db.session.scalar(select(Organisation).where(Organisation.name == "CSRF 测试有限公司"))
    en.post("/logout", data={"csrf_token": csrf_token(en, "/dashboard")})

    login_with_token(en, operator)
    token = csrf_token(en, "/account/licences")
    resp = en.post("/account/licences", data={**licence_form(), "csrf_token": token},
                   content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    assert db.session.scalar(select(Licence).where(Licence.number == "CSRF-LIC-1"))

    token = csrf_token(en, "/dashboard")
    resp = en.post("/language", data={"locale": "zh_CN", "csrf_token": token})
    assert resp.status_code == 302
    db.session.refresh(operator)
    assert operator.locale == "zh_CN"


def test_logout_needs_token(csrf_app, en, generator):
    login_with_token(en, generator)
    assert en.post("/logout").status_code == 400
    assert en.get("/dashboard").status_code == 200


# --- cookies and configuration ----------------------------------------------------------------------

def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_lax(app, en, generator):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # development and tests run on http
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD})
    cookie = _session_cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_production_app_sets_secure_cookie(app, monkeypatch):
    db.session.commit()  # the production app's teardown removes the shared session
    prod = create_app(HAZEX_ENV="production", SECRET_KEY="prod-secret-for-test",
                      DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"])
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["WTF_CSRF_ENABLED"] is True
    assert prod.config["SECRET_KEY"] == "prod-secret-for-test"
    resp = prod.test_client().get("/login", headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    cookie = _session_cookie(resp)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cannot_switch_secure_cookie_off():
    cfg = load_config({"HAZEX_ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "postgresql://x/y",
                       "REDIS_URL": "redis://x", "SESSION_COOKIE_SECURE": False})
    assert cfg["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_config_fails_fast_without_secrets(monkeypatch, missing):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "HAZEX_ENV"):
        monkeypatch.delenv(name, raising=False)
    settings = {"HAZEX_ENV": "production", "SECRET_KEY": "s", "DATABASE_URL": "postgresql://x/y",
                "REDIS_URL": "redis://x"}
    settings.pop(missing)
    with pytest.raises(ConfigError) as exc:
        load_config(settings)
    assert missing in str(exc.value)


def test_production_without_secret_key_raises(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config({"HAZEX_ENV": "production"})


def test_demo_seed_refused_in_production(app):
    from market.demo import seed
    db.session.commit()
    before = counts()
    prod = create_app(HAZEX_ENV="production", SECRET_KEY="prod-secret-for-test",
                      DATABASE_URL=app.config["DATABASE_URL"], REDIS_URL=app.config["REDIS_URL"])
    with prod.app_context():
        with pytest.raises(RuntimeError) as exc:
            seed()
    assert "production" in str(exc.value)
    assert counts() == before


def test_uploads_live_outside_static(app):
    from pathlib import Path
    from market.config import ROOT
    default = load_config({})["UPLOAD_DIR"]
    static = (ROOT / "static").resolve()
    assert not Path(default).resolve().is_relative_to(static)
    assert not Path(app.config["UPLOAD_DIR"]).resolve().is_relative_to(static)
    assert app.static_folder and Path(app.static_folder).resolve() == static


def test_request_body_limit_leaves_room_for_the_scan(app):
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_UPLOAD_BYTES"]
