"""The /register form: success, and every bad input refused with the field named and nothing changed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import Organisation, User
from market.audit.models import AuditEvent
from market.demo import credit_code
from market.jobs.models import OutboxJob
from market.notifications.models import EmailMessage, Notification

COUNTED = (Organisation, User, AuditEvent, Notification, EmailMessage, OutboxJob)
GOOD_CODE = credit_code("440306", "WEB000001")


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}





@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def form(**overrides) -> dict:
    data = {"name": "深圳市网页注册有限公司", "credit_code": GOOD_CODE, "types": ["generator"],
            "region_code": "440306", "address": "深圳市宝安区测试路3号", "latitude": "",
            "longitude": "", "user_name": "王五", "email": "wang@example.cn",
            "password": "long-enough-pw"}
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def _bad_check_character(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def test_register_page_renders(en):
    resp = en.get("/register")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for name in ("name", "credit_code", "types", "region_code", "latitude", "email", "password"):
        assert f'name="{name}"' in html


def test_registration_succeeds(en, admin):
    db.session.commit()
    before = counts()
    resp = en.post("/register", data=form(latitude="22.555", longitude="113.883"),
                   environ_overrides={"REMOTE_ADDR": "203.0.113.7"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard")
    org = db.session.scalar(select(Organisation).where(Organisation.credit_code == GOOD_CODE))
    assert org.status == "pending" and org.types == ["generator"]
    assert org.coordinates == (22.555, 113.883)
    user = db.session.scalar(select(User).where(User.org_id == org.id))
    assert user.is_org_admin and user.email == "wang@example.cn" and user.name == "王五"
    after = counts()
    assert after["Organisation"] == before["Organisation"] + 1
    assert after["User"] == before["User"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_type, event.object_id) == \
        ("organisation.registered", "organisation", str(org.id))
    assert (event.actor_user_id, event.actor_org_id, event.ip) == (user.id, org.id, "203.0.113.7")
    note = db.session.scalar(select(Notification).where(Notification.user_id == admin.id))
    assert note is not None and org.name in note.title
    assert db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == admin.email))

    # Registered and logged in: the dashboard says the organisation awaits verification.
    page = en.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="verification-banner"' in page and org.name in page


LONG_NAME = "名" * 201


@pytest.mark.parametrize("overrides, field, label", [
    ({"name": ""}, "name", "Organisation name"),
    ({"name": None}, "name", "Organisation name"),
    ({"name": LONG_NAME}, "name", "Organisation name"),
    ({"credit_code": GOOD_CODE[:-1]}, "credit_code", "Unified social credit code"),
    ({"credit_code": GOOD_CODE + "1"}, "credit_code", "Unified social credit code"),
    ({"credit_code": _bad_check_character(GOOD_CODE)}, "credit_code", "Unified social credit code"),
    ({"credit_code": ""}, "credit_code", "Unified social credit code"),
    ({"types": None}, "types", "Organisation type"),
    ({"types": ["broker"]}, "types", "Organisation type"),
    ({"region_code": "999999"}, "region_code", "Region"),
    ({"region_code": "4403"}, "region_code", "Region"),
    ({"region_code": "", "region_code-province": "", "region_code-city": ""}, "region_code", "Region"),
    ({"latitude": "22.5"}, "latitude", "Latitude"),
    ({"longitude": "113.9"}, "latitude", "Latitude"),
    ({"latitude": "91", "longitude": "113.9"}, "latitude", "Latitude"),
    ({"latitude": "north", "longitude": "113.9"}, "latitude", "Latitude"),
    ({"latitude": "22.5", "longitude": "181"}, "longitude", "Longitude"),
    ({"email": "wang-at-example.cn"}, "email", "E-mail"),
    ({"email": "wang@"}, "email", "E-mail"),
    ({"email": ""}, "email", "E-mail"),
    ({"user_name": ""}, "user_name", "Your name"),
    ({"password": "ninechars"}, "password", "Password"),
    ({"address": "址" * 301}, "address", "Address"),
])
def test_bad_registration_is_422_names_field_and_changes_nothing(en, admin, overrides, field, label):
    db.session.commit()
    before = counts()
    resp = en.post("/register", data=form(**overrides))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    errors = re.findall(r'<p class="error" data-field="([a-z_]+)">([^<]*)</p>', html)
    assert errors and errors[0][0] == field, errors
    assert errors[0][1].startswith(f"{label}: ")
    assert counts() == before


@pytest.mark.parametrize("clash", ["credit_code", "email"])
def test_duplicate_credit_code_or_email_refused(en, generator, clash):
    db.session.commit()
    before = counts()
    value = {"credit_code": generator.org.credit_code, "email": generator.email.upper()}[clash]
    resp = en.post("/register", data=form(**{clash: value}))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'data-field="{clash}"' in html and "already" in html
    assert counts() == before


def test_credit_code_messages_give_the_rule(en):
    db.session.commit()
    html = en.post("/register", data=form(credit_code=_bad_check_character(GOOD_CODE))).get_data(as_text=True)
    assert "check character" in html and "GB 32100-2015" in html
    html = en.post("/register", data=form(credit_code=GOOD_CODE[:-1])).get_data(as_text=True)
    assert "18 characters" in html


def test_registration_shows_in_chinese_form_too(client):
    """Errors render in the Chinese page as well (no crash, field still named)."""
    db.session.commit()
    resp = client.post("/register", data=form(region_code="999999"),
                       headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert resp.status_code == 422
    assert 'data-field="region_code"' in resp.get_data(as_text=True)


def test_every_problem_is_reported_at_once_with_a_summary_linking_to_the_fields(en, admin):
    db.session.commit()
    before = counts()
    resp = en.post("/register", data=form(email="not-an-email", name=""))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    summary = re.search(r'data-testid="error-summary".*?</div>', html, re.S).group(0)
    linked = set(re.findall(r'<a href="#([a-z_]+)" data-error-for="([a-z_]+)">', summary))
    assert {("email", "email"), ("name", "name")} <= linked, linked
    # each field carries its error: aria-invalid and aria-describedby pointing at the message
    for name in ("email", "name"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f'aria-describedby="{name}-error"' in tag, tag
        assert f'id="{name}-error"' in html
    assert counts() == before
