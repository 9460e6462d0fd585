"""Language negotiation, the language switch (remembered per user), and locale-aware formatting."""
from __future__ import annotations

import re
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.web.i18n import money, weight
from tests.factories import PASSWORD

ZH = "zh-CN,zh;q=0.9"





def lang(resp) -> str:
    match = re.search(r'<html lang="([^"]+)"', resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)[:200]
    return match.group(1)


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


# --- negotiation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("en", "en"),
    ("en-US,en;q=0.9", "en"),
    ("en-GB", "en"),
    (ZH, "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-TW", "zh-CN"),
    ("en;q=0.5,zh-CN;q=0.9", "zh-CN"),
    ("zh;q=0.2,en;q=0.8", "en"),
    ("fr-FR,de;q=0.8", "zh-CN"),    # nothing we speak: the default
    (None, "zh-CN"),                # no header: the default, Chinese
])
def test_language_from_the_browser(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    resp = client.get("/login", headers=headers)
    assert resp.status_code == 200
    assert lang(resp) == expected


def test_login_page_english_text(client):
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Log in</h1>" in html and "Forgot your password?" in html
    assert 'data-testid="lang-zh"' in html  # the switch offers the other language


def test_login_page_chinese_text(client):
    """Needs the zh_CN catalogue (market/translations/zh_CN/LC_MESSAGES/messages.po, compiled)."""
    for headers in ({"Accept-Language": ZH}, {}):
        html = client.get("/login", headers=headers).get_data(as_text=True)
        assert '<html lang="zh-CN">' in html
        assert "<h1>登录</h1>" in html
        assert 'data-testid="lang-en"' in html


def test_zh_CN_catalogue_is_found_outside_requests_too(app):
    """Babel turns 'zh_CN' into zh_Hans_CN; the catalogue under translations/zh_CN must still load
    (jobs and e-mails use force_locale('zh_CN') without a request)."""
    from flask_babel import gettext
    with force_locale("zh_CN"):
        assert gettext("Log in") != "Log in"
    with force_locale("en"):
        assert gettext("Log in") == "Log in"


def test_error_messages_follow_the_language(client):
    """The English message must not leak into the Chinese page and vice versa."""
    data = {"email": "nobody@example.cn", "password": "wrong-password"}
    en = client.post("/login", data=data, headers={"Accept-Language": "en"})
    assert en.status_code == 401 and "E-mail or password is wrong." in en.get_data(as_text=True)
    zh = client.post("/login", data=data, headers={"Accept-Language": ZH})
    assert zh.status_code == 401 and lang(zh) == "zh-CN"
    assert "E-mail or password is wrong." not in zh.get_data(as_text=True)


# --- the switch ------------------------------------------------------------------------------------

def test_switch_sets_language_for_the_session(client):
    resp = client.post("/language", data={"locale": "en", "next": "/login"},
                       headers={"Accept-Language": ZH})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert session["locale"] == "en"
    assert lang(client.get("/login", headers={"Accept-Language": ZH})) == "en"
    client.post("/language", data={"locale": "zh_CN"})
    assert lang(client.get("/login", headers={"Accept-Language": "en"})) == "zh-CN"


def test_switch_goes_back_to_the_referring_page(client):
    resp = client.post("/language", data={"locale": "en"},
                       headers={"Referer": "http://localhost/register?x=1"})
    assert resp.headers["Location"] == "/register?x=1"
    resp = client.post("/language", data={"locale": "en"})
    assert resp.headers["Location"] == "/"


@pytest.mark.parametrize("nxt, referer", [
    ("//evil.com/", None), ("https://evil.com/", None), ("/\\evil.com", None), ("/\t/evil.com", None),
    (None, "https://evil.com/page"), (None, "//evil.com"),
])
def test_switch_never_redirects_off_site(client, nxt, referer):
    data = {"locale": "en"}
    if nxt:
        data["next"] = nxt
    headers = {"Referer": referer} if referer else {}
    resp = client.post("/language", data=data, headers=headers)
    assert resp.status_code == 302
    location = resp.headers["Location"].replace("\\", "/")
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil.com" not in location


def test_switch_is_remembered_for_the_user(app, client, generator):
    client.post("/login", data={"email": generator.email, "password": PASSWORD})
    before = audit_count()
    resp = client.post("/language", data={"locale": "en", "next": "/dashboard"},
                       environ_overrides={"REMOTE_ADDR": "203.0.113.50"})
    assert resp.status_code == 302
    db.session.refresh(generator)
    assert generator.locale == "en"
    assert audit_count() == before + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.actor_user_id, event.ip, event.changes) == \
        ("user.locale", generator.id, "203.0.113.50", {"locale": "en"})
    client.post("/logout")

    fresh = app.test_client()
    assert lang(fresh.get("/login", headers={"Accept-Language": ZH})) == "zh-CN"
    fresh.post("/login", data={"email": generator.email, "password": PASSWORD},
               headers={"Accept-Language": ZH})
    dash = fresh.get("/dashboard", headers={"Accept-Language": ZH})
    assert dash.status_code == 200 and lang(dash) == "en"


@pytest.mark.parametrize("locale", ["fr", "", "zh-CN", "EN", "en_US"])
def test_unsupported_locale_is_422_and_changes_nothing(client, generator, locale):
    client.post("/login", data={"email": generator.email, "password": PASSWORD})
    db.session.commit()
    before = audit_count()
    resp = client.post("/language", data={"locale": locale}, headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-field="locale"' in html and "Unsupported language." in html
    db.session.refresh(generator)
    assert generator.locale is None and audit_count() == before
    with client.session_transaction() as session:
        assert "locale" not in session


# --- formatting ------------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_money_and_weight_filters(app, locale):
    with app.test_request_context("/"), force_locale(locale):
        assert money(123456) == "¥1,234.56"
        assert money(-5) == "-¥0.05"
        assert money(0) == "¥0.00"
        assert money(100_000_000_00) == "¥100,000,000.00"
        assert money(None) == "—"
        assert weight(1500) == "1.500 t"
        assert weight(1) == "0.001 t"
        assert weight(1_234_500) == "1,234.500 t"
        assert weight(0) == "0.000 t"
        assert weight(None) == "—"


def test_filters_are_registered_for_templates(app):
    with app.test_request_context("/"), force_locale("en"):
        tpl = app.jinja_env.from_string("{{ 123456|money }} {{ 1500|weight }}")
        assert tpl.render() == "¥1,234.56 1.500 t"


# One format per language (issue 14): 2025-03-01 in Chinese, 1 Mar 2025 in English, never 3/1/25.
@pytest.mark.parametrize("locale, expected", [("en", "1 Mar 2025"), ("zh_CN", "2025-03-01")])
def test_dates_follow_the_locale(app, locale, expected):
    with app.test_request_context("/"), force_locale(locale):
        assert app.jinja_env.from_string("{{ d|date }}").render(d=date(2025, 3, 1)) == expected
