"""Logging in and out, open-redirect protection, and the login rate limit (per account and per IP)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import UserSession
from market.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory





@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def limit(app):
    """The login limits are read per request; tighten them for one test."""
    old = {k: app.config[k] for k in ("LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS")}
    app.config.update(LOGIN_FAILURES_PER_ACCOUNT="3 per 15 minutes",
                      LOGIN_FAILURES_PER_ADDRESS="3 per minute")
    yield
    app.config.update(old)


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_login_page(en):
    resp = en.get("/login")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html and "Log in" in html


def test_right_password_logs_in_and_goes_to_dashboard(en, generator):
    before = audit_count()
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "198.51.100.4"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"
    assert logged_in(en)
    assert generator.last_login_at is not None
    assert audit_count() == before + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.actor_user_id, event.actor_org_id, event.ip) == \
        ("user.login", generator.id, generator.org_id, "198.51.100.4")


def test_email_is_case_insensitive(en, generator):
    resp = en.post("/login", data={"email": "  " + generator.email.upper(), "password": PASSWORD})
    assert resp.status_code == 302


@pytest.mark.parametrize("email, password", [
    (None, "wrong-password"),
    (None, ""),
    ("nobody@example.cn", PASSWORD),
])
def test_wrong_credentials_are_401_without_session(en, generator, email, password):
    db.session.commit()
    before = audit_count()
    resp = en.post("/login", data={"email": email or generator.email, "password": password})
    html = resp.get_data(as_text=True)
    if password:
        assert resp.status_code == 401
        assert "E-mail or password is wrong." in html
    else:
        assert resp.status_code == 422 and 'data-field="password"' in html
    with en.session_transaction() as session:
        assert "_user_id" not in session
    assert not logged_in(en)
    assert audit_count() == before


def test_inactive_user_is_refused(en):
    user = UserFactory(active=False)
    db.session.commit()
    resp = en.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 401 and "E-mail or password is wrong." in resp.get_data(as_text=True)
    assert not logged_in(en)


def test_deactivated_user_loses_session(en, generator):
    en.post("/login", data={"email": generator.email, "password": PASSWORD})
    assert logged_in(en)
    generator.active = False
    db.session.commit()
    assert en.get("/dashboard").status_code == 302


def stays_on_site(location: str) -> bool:
    """A browser follows this Location to our own host (browsers read a backslash as a slash)."""
    normalised = location.replace("\\", "/")
    return normalised.startswith("/") and not normalised.startswith("//") \
        and urlsplit(normalised).netloc == ""


@pytest.mark.parametrize("nxt", ["//evil.com", "//evil.com/account", "https://evil.com/",
                                 "/\\evil.com", "/\\/evil.com", "\\\\evil.com",
                                 "javascript:alert(1)", "/\t/evil.com"])
def test_next_pointing_off_site_is_not_followed(en, generator, nxt):
    resp = en.post("/login", query_string={"next": nxt},
                   data={"email": generator.email, "password": PASSWORD})
    assert resp.status_code == 302
    assert stays_on_site(resp.headers["Location"]), resp.headers["Location"]


def test_next_within_the_site_is_followed(en, generator):
    resp = en.post("/login", query_string={"next": "/account/organisation"},
                   data={"email": generator.email, "password": PASSWORD})
    assert resp.headers["Location"] == "/account/organisation"


def test_stays_on_site_helper():
    assert stays_on_site("/dashboard") and stays_on_site("/%5Cevil.com")
    assert not stays_on_site("//evil.com") and not stays_on_site("/\\evil.com")
    assert not stays_on_site("https://evil.com/")


def test_logout(en, generator):
    en.post("/login", data={"email": generator.email, "password": PASSWORD})
    assert en.post("/logout").status_code == 302
    assert not logged_in(en)
    assert en.get("/logout").status_code == 405  # logging out is a POST (CSRF-protected)


def test_login_redirects_anonymous_users(en):
    resp = en.get("/dashboard")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


# --- rate limit ------------------------------------------------------------------------------------
# Failed attempts are counted per account and, generously, per client address; successes never.

def session_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession))


def test_account_waits_after_five_failures_from_any_address(app, en, generator):
    assert app.config["LOGIN_FAILURES_PER_ACCOUNT"] == "5 per 15 minutes"
    for i in range(5):
        resp = en.post("/login", data={"email": generator.email, "password": "wrong-password"},
                       environ_overrides={"REMOTE_ADDR": f"192.0.2.{i + 1}"})
        assert resp.status_code == 401
    db.session.commit()
    before = (audit_count(), session_rows(), generator.last_login_at)
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.99"})
    assert resp.status_code == 429
    wait = int(resp.headers["Retry-After"])
    assert 14 * 60 < wait <= 15 * 60
    assert "Too many attempts; try again in 15 minutes." in resp.get_data(as_text=True)
    db.session.refresh(generator)
    assert (audit_count(), session_rows(), generator.last_login_at) == before
    assert not logged_in(en)
    # Another account from another address is unaffected.
    other = UserFactory()
    resp = en.post("/login", data={"email": other.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.100"})
    assert resp.status_code == 302


def test_successful_logins_are_not_counted(en, generator):
    for _ in range(12):
        resp = en.post("/login", data={"email": generator.email, "password": PASSWORD})
        assert resp.status_code == 302
    assert logged_in(en)


def test_twenty_colleagues_behind_one_address_log_in_within_a_minute(app, generator):
    """An office behind one NAT address: each mistypes once, then everyone gets in."""
    colleagues = [UserFactory(org=generator.org) for _ in range(20)]
    db.session.commit()
    for user in colleagues:
        browser = app.test_client()
        office = {"REMOTE_ADDR": "203.0.113.7"}
        wrong = browser.post("/login", data={"email": user.email, "password": "typo-password"},
                             environ_overrides=office)
        assert wrong.status_code == 401
        right = browser.post("/login", data={"email": user.email, "password": PASSWORD},
                             environ_overrides=office)
        assert right.status_code == 302, right.get_data(as_text=True)[:300]
        assert browser.get("/dashboard", environ_overrides=office).status_code == 200


def test_account_key_ignores_case_and_spaces(en, generator, limit):
    for variant in (generator.email, generator.email.upper(), f" {generator.email} "):
        en.post("/login", data={"email": variant, "password": "wrong-password"},
                environ_overrides={"REMOTE_ADDR": f"192.0.2.{len(variant)}"})
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.200"})
    assert resp.status_code == 429


def test_failures_from_one_address_are_limited_across_accounts(en, generator, limit):
    for i in range(3):
        resp = en.post("/login", data={"email": f"guess{i}@example.cn", "password": "wrong-password"},
                       environ_overrides={"REMOTE_ADDR": "192.0.2.50"})
        assert resp.status_code == 401
    db.session.commit()
    before = (audit_count(), session_rows())
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.50"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 60
    assert not logged_in(en)
    assert (audit_count(), session_rows()) == before
    # The same account from another address still works.
    resp = en.post("/login", data={"email": generator.email, "password": PASSWORD},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.51"})
    assert resp.status_code == 302


def test_get_login_page_is_not_limited(en, limit):
    for _ in range(6):
        assert en.get("/login").status_code == 200


def test_reset_requests_count_every_request(en, generator, limit):
    for i in range(3):
        assert en.post("/reset", data={"email": generator.email},
                       environ_overrides={"REMOTE_ADDR": f"192.0.2.{i + 1}"}).status_code == 302
    resp = en.post("/reset", data={"email": generator.email},
                   environ_overrides={"REMOTE_ADDR": "192.0.2.9"})
    assert resp.status_code == 429
