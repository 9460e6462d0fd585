"""Sessions end on the server: logout, idle timeout, password change or reset, the security page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market import db
from market.accounts.jobs import prune_credentials
from market.accounts.models import ApiToken, User, UserSession
from market.accounts.passwords import check_password
from market.accounts.services import request_password_reset
from market.audit.models import AuditEvent
from market.db import utcnow
from market.notifications.models import EmailMessage
from tests.api.conftest import bearer
from tests.factories import PASSWORD, UserFactory
from tests.fixtures import login

NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def another_browser(app, cookie: str | None = None):
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if cookie is not None:
        browser.set_cookie("session", cookie)
    return browser


def opens_dashboard(client) -> bool:
    resp = client.get("/dashboard")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def open_sessions(user) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))


def live_tokens(user) -> int:
    return db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def snapshot(user) -> tuple:
    db.session.expire_all()
    return (open_sessions(user), live_tokens(user), audit_count(),
            db.session.get(User, user.id).password_hash)


# --- logout and copied cookies ---------------------------------------------------------------------

def test_logout_ends_the_session_so_a_copied_cookie_opens_nothing(app, en, generator):
    login(en, generator)
    copied = session_cookie(en)
    thief = another_browser(app, copied)
    assert opens_dashboard(thief)  # the copy works while the session is open…

    assert en.post("/logout").status_code == 302
    assert not opens_dashboard(en)
    assert not opens_dashboard(another_browser(app, copied))  # …and not after logout
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == generator.id))
    assert row.ended_at is not None


def test_the_cookie_carries_no_more_than_a_random_session_id(en, generator):
    login(en, generator)
    with en.session_transaction() as s:
        sid = s["sid"]
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == generator.id))
    assert len(sid) >= 40 and row.sid_hash != sid and row.ended_at is None
    assert row.ip == "127.0.0.1"


def test_a_forged_session_id_opens_nothing(app, en, generator):
    login(en, generator)
    with en.session_transaction() as s:
        s["sid"] = "not-the-id-of-any-session"
    assert not opens_dashboard(en)


def test_each_login_is_its_own_session(app, generator):
    one, two = another_browser(app), another_browser(app)
    login(one, generator)
    login(two, generator)
    assert open_sessions(generator) == 2
    one.post("/logout")
    assert not opens_dashboard(one) and opens_dashboard(two)


# --- idle timeout ----------------------------------------------------------------------------------

def test_session_expires_after_the_idle_time(app, en, generator):
    assert app.config["SESSION_IDLE_MINUTES"] == 60
    login(en, generator)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle + timedelta(minutes=1)))
    assert opens_dashboard(en)  # 59 minutes idle: still open, and noted as used now
    row = db.session.scalar(select(UserSession))
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)

    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - idle - timedelta(minutes=1)))
    resp = en.get("/dashboard")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    db.session.refresh(row)
    assert row.ended_at is not None
    # Coming back does not revive it.
    db.session.execute(update(UserSession).values(last_seen_at=utcnow()))
    assert not opens_dashboard(en)


def test_idle_setting_is_read_from_config(app, en, generator, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    login(en, generator)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=6)))
    assert not opens_dashboard(en)


def test_csrf_tokens_expire_with_the_session(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == app.config["SESSION_IDLE_MINUTES"] * 60


def _csrf(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_csrf_token_is_renewed_at_login(csrf_app, en, generator):
    db.session.commit()
    before_login = _csrf(en, "/login")
    with en.session_transaction() as s:
        raw_before = s["csrf_token"]
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD,
                                   "csrf_token": before_login})
    assert resp.status_code == 302
    with en.session_transaction() as s:
        assert s.get("csrf_token") != raw_before
    # A token handed out before the login (say, planted by an attacker) no longer works.
    count = audit_count()
    resp = en.post("/language", data={"locale": "en", "csrf_token": before_login})
    assert resp.status_code == 400
    assert audit_count() == count
    assert en.post("/language", data={"locale": "en", "csrf_token": _csrf(en, "/dashboard")}
                   ).status_code == 302


# --- password change and reset end every credential -------------------------------------------------

def test_password_change_ends_every_other_session_and_token(app, en, generator):
    login(en, generator)
    other = another_browser(app)
    login(other, generator)
    copied = session_cookie(en)
    headers = bearer(generator)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200

    resp = en.post("/account/security", data={"current_password": PASSWORD,
                                              "new_password": NEW_PASSWORD})
    assert resp.status_code == 302
    assert opens_dashboard(en)  # the browser that changed it gets a fresh session
    assert not opens_dashboard(other)
    assert not opens_dashboard(another_browser(app, copied))
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert open_sessions(generator) == 1 and live_tokens(generator) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_changed"))
    assert event.changes == {"sessions_ended": 2, "tokens_revoked": 1}
    db.session.refresh(generator)
    assert check_password(generator.password_hash, NEW_PASSWORD)


@pytest.mark.parametrize("data, field, message", [
    ({"current_password": "wrong-password", "new_password": NEW_PASSWORD}, "current_password",
     "The current password is wrong."),
    ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "between 10 and 200"),
    ({"current_password": "", "new_password": NEW_PASSWORD}, "current_password", "required"),
])
def test_refused_password_change_changes_nothing(app, en, generator, data, field, message):
    login(en, generator)
    bearer(generator)
    db.session.commit()
    before = snapshot(generator)
    resp = en.post("/account/security", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'data-field="{field}"' in html and message in html, re.findall(r'data-field="[^<]*', html)
    assert snapshot(generator) == before
    assert opens_dashboard(en)


def test_password_reset_ends_every_session_and_token(app, en, generator):
    login(en, generator)
    headers = bearer(generator)
    request_password_reset(generator.email)
    mail = db.session.scalars(select(EmailMessage).where(EmailMessage.to_address == generator.email)).one()
    token = re.search(r"/reset/(\S+)", mail.body).group(1)
    browser = another_browser(app)
    assert browser.post(f"/reset/{token}", data={"password": NEW_PASSWORD}).status_code == 302
    assert not opens_dashboard(en)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert open_sessions(generator) == 0 and live_tokens(generator) == 0


# --- the security page ------------------------------------------------------------------------------

def test_security_page_lists_and_ends_sessions_and_tokens(app, en, generator):
    login(en, generator)
    elsewhere = another_browser(app)
    login(elsewhere, generator)
    headers = bearer(generator)
    html = en.get("/account/security").get_data(as_text=True)
    assert html.count('data-testid="session-row"') == 2 and 'data-testid="this-session"' in html
    assert html.count('data-testid="token-row"') == 1

    other_row = db.session.scalars(select(UserSession).order_by(UserSession.id.desc())).first()
    resp = en.post(f"/account/sessions/{other_row.id}/end")
    assert resp.status_code == 302
    assert not opens_dashboard(elsewhere) and opens_dashboard(en)

    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == generator.id))
    assert en.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert 'data-testid="no-tokens"' in en.get("/account/security").get_data(as_text=True)


def test_nobody_ends_another_users_session_or_token(app, en, generator):
    victim = UserFactory()
    victim_browser = another_browser(app)
    login(victim_browser, victim)
    bearer(victim)
    session_id = db.session.scalar(select(UserSession.id).where(UserSession.user_id == victim.id))
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == victim.id))
    login(en, generator)
    db.session.commit()
    before = snapshot(victim)
    assert en.post(f"/account/sessions/{session_id}/end").status_code == 404
    assert en.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert snapshot(victim) == before
    assert opens_dashboard(victim_browser)


def test_regulators_may_look_after_their_own_credentials(en, regulator):
    login(en, regulator)
    assert en.get("/account/security").status_code == 200
    resp = en.post("/account/security", data={"current_password": PASSWORD,
                                              "new_password": NEW_PASSWORD})
    assert resp.status_code == 302


# --- housekeeping ----------------------------------------------------------------------------------

def test_dead_sessions_and_tokens_are_pruned_after_ninety_days(en, generator):
    login(en, generator)
    bearer(generator)
    bearer(generator)
    old = utcnow() - timedelta(days=91)
    stale, _live = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    stale.revoked_at = old
    other = UserFactory()
    login(another_browser(en.application), other)
    db.session.execute(update(UserSession).where(UserSession.user_id == other.id)
                       .values(last_seen_at=old))
    db.session.flush()
    assert prune_credentials(utcnow().date().isoformat()) == 2
    assert open_sessions(generator) == 1 and live_tokens(generator) == 1
    assert opens_dashboard(en)
