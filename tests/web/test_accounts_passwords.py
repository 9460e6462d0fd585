"""Password reset by e-mailed token, and invitations to join an organisation, through the web."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import Invitation, Organisation, User
from market.accounts.passwords import check_password
from market.audit.models import AuditEvent
from market.db import utcnow
from market.notifications.models import EmailMessage
from tests.factories import PASSWORD, UserFactory

COUNTED = (Organisation, User, Invitation, EmailMessage, AuditEvent)
IP = "203.0.113.20"





@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.environ_base["REMOTE_ADDR"] = IP
    return client


@pytest.fixture
def other_client(app):
    c = app.test_client()
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def mails_to(address: str) -> list[EmailMessage]:
    return list(db.session.scalars(select(EmailMessage).where(EmailMessage.to_address == address)
                                   .order_by(EmailMessage.id)))


def link_token(body: str, prefix: str) -> str:
    assert prefix in body, body
    return body.split(prefix, 1)[1].split()[0]


def login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


# --- password reset --------------------------------------------------------------------------------

def test_reset_request_mails_a_link(en, generator):
    before = counts()
    resp = en.post("/reset", data={"email": generator.email.upper()})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    (mail,) = mails_to(generator.email)
    assert "http://hazex.test/reset/" in mail.body
    after = counts()
    assert after["EmailMessage"] == before["EmailMessage"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = last_event()
    assert (event.action, event.actor_user_id, event.ip) == \
        ("user.password_reset_requested", generator.id, IP)


def test_unknown_address_gets_the_same_answer_and_no_mail(en, other_client, generator):
    known = en.post("/reset", data={"email": generator.email}, follow_redirects=True)
    before = counts()
    unknown = other_client.post("/reset", data={"email": "nobody@example.cn"}, follow_redirects=True)
    assert counts() == before
    assert unknown.status_code == known.status_code == 200
    assert unknown.request.path == known.request.path == "/login"
    message = "If the address has an account, a reset link is on its way."
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_reset_request_bad_address_is_422(en):
    before = counts()
    resp = en.post("/reset", data={"email": "not-an-address"})
    assert resp.status_code == 422 and 'data-field="email"' in resp.get_data(as_text=True)
    assert counts() == before


def test_reset_sets_new_password_once(en, other_client, generator):
    en.post("/reset", data={"email": generator.email})
    token = link_token(mails_to(generator.email)[0].body, "/reset/")
    assert en.get(f"/reset/{token}").status_code == 200
    before = counts()
    resp = en.post(f"/reset/{token}", data={"password": "a-brand-new-password"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    assert (last_event().action, last_event().ip) == ("user.password_reset", IP)
    db.session.refresh(generator)
    assert check_password(generator.password_hash, "a-brand-new-password")
    assert login(other_client, generator.email, PASSWORD).status_code == 401
    assert login(other_client, generator.email, "a-brand-new-password").status_code == 302

    hash_now, before = generator.password_hash, counts()
    resp = en.post(f"/reset/{token}", data={"password": "yet-another-password"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "already been used" in html and 'data-field="password"' in html
    db.session.refresh(generator)
    assert generator.password_hash == hash_now and counts() == before


def test_expired_reset_link_is_refused_clearly(app, en, generator):
    en.post("/reset", data={"email": generator.email})
    token = link_token(mails_to(generator.email)[0].body, "/reset/")
    hash_before, before = generator.password_hash, counts()
    old = app.config["PASSWORD_RESET_MAX_AGE"]
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        resp = en.post(f"/reset/{token}", data={"password": "a-brand-new-password"})
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = old
    assert resp.status_code == 422
    assert "This reset link has expired; ask for a new one." in resp.get_data(as_text=True)
    db.session.refresh(generator)
    assert generator.password_hash == hash_before and counts() == before


@pytest.mark.parametrize("token, password, text", [
    (None, "short", "New password: "),
    (None, "", "This field is required."),
    ("garbage-token", "a-brand-new-password", "This reset link is not valid."),
])
def test_reset_bad_input_changes_nothing(en, generator, token, password, text):
    en.post("/reset", data={"email": generator.email})
    token = token or link_token(mails_to(generator.email)[0].body, "/reset/")
    hash_before, before = generator.password_hash, counts()
    resp = en.post(f"/reset/{token}", data={"password": password})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-field="password"' in html and text in html
    db.session.refresh(generator)
    assert generator.password_hash == hash_before and counts() == before


# --- invitations -----------------------------------------------------------------------------------

def test_org_admin_invites_and_invitee_joins(en, other_client, generator):
    assert login(en, generator.email).status_code == 302
    before = counts()
    resp = en.post("/account/users", data={"email": "Colleague@Example.cn"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/users"
    after = counts()
    assert after["Invitation"] == before["Invitation"] + 1
    assert after["EmailMessage"] == before["EmailMessage"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = last_event()
    assert (event.action, event.actor_user_id, event.actor_org_id, event.ip) == \
        ("user.invited", generator.id, generator.org_id, IP)
    (mail,) = mails_to("colleague@example.cn")
    token = link_token(mail.body, "/invitations/")

    page = other_client.get(f"/invitations/{token}")
    assert page.status_code == 200 and generator.org.name in page.get_data(as_text=True)
    before = counts()
    resp = other_client.post(f"/invitations/{token}", data={"name": "新同事", "password": "joining-password"},
                             environ_overrides={"REMOTE_ADDR": "198.51.100.9"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard"
    user = db.session.scalar(select(User).where(User.email == "colleague@example.cn"))
    assert user.org_id == generator.org_id and not user.is_org_admin and user.name == "新同事"
    after = counts()
    assert after["User"] == before["User"] + 1 and after["AuditEvent"] == before["AuditEvent"] + 1
    assert (last_event().action, last_event().actor_user_id, last_event().ip) == \
        ("user.joined", user.id, "198.51.100.9")
    dash = other_client.get("/dashboard")
    assert dash.status_code == 200 and "新同事" in dash.get_data(as_text=True)

    # Used: 404 for both the page and the form.
    assert other_client.get(f"/invitations/{token}").status_code == 404
    before = counts()
    assert other_client.post(f"/invitations/{token}",
                             data={"name": "again", "password": "joining-password"}).status_code == 404
    assert counts() == before


def test_member_who_is_not_org_admin_cannot_invite(en, generator):
    member = UserFactory(org=generator.org, is_org_admin=False)
    assert login(en, member.email).status_code == 302
    before = counts()
    resp = en.post("/account/users", data={"email": "friend@example.cn"})
    assert resp.status_code == 403
    assert counts() == before
    assert 'data-testid="invite-form"' not in en.get("/account/users").get_data(as_text=True)


@pytest.mark.parametrize("email, text", [
    ("existing", "An account with this e-mail already exists."),
    ("not-an-address", "Enter a valid e-mail address."),
    ("", "This field is required."),
])
def test_invitation_bad_email_is_422(en, generator, operator, email, text):
    assert login(en, generator.email).status_code == 302
    before = counts()
    resp = en.post("/account/users", data={"email": operator.email if email == "existing" else email})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-field="email"' in html and text in html
    assert counts() == before


def test_expired_and_unknown_invitations_are_404(en, other_client, generator):
    login(en, generator.email)
    en.post("/account/users", data={"email": "late@example.cn"})
    token = link_token(mails_to("late@example.cn")[0].body, "/invitations/")
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "late@example.cn"))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = counts()
    for path in (f"/invitations/{token}", "/invitations/no-such-token"):
        assert other_client.get(path).status_code == 404
        resp = other_client.post(path, data={"name": "Late", "password": "joining-password"})
        assert resp.status_code == 404
    assert counts() == before


@pytest.mark.parametrize("data, field", [
    ({"name": "", "password": "joining-password"}, "name"),
    ({"name": "Short", "password": "123456789"}, "password"),
])
def test_accepting_with_bad_input_is_422(en, other_client, generator, data, field):
    login(en, generator.email)
    en.post("/account/users", data={"email": "new@example.cn"})
    token = link_token(mails_to("new@example.cn")[0].body, "/invitations/")
    before = counts()
    resp = other_client.post(f"/invitations/{token}", data=data)
    assert resp.status_code == 422 and f'data-field="{field}"' in resp.get_data(as_text=True)
    assert counts() == before
    assert db.session.scalar(select(Invitation.accepted_at)) is None


def test_accepting_when_email_was_taken_meanwhile(en, other_client, generator):
    login(en, generator.email)
    en.post("/account/users", data={"email": "taken@example.cn"})
    token = link_token(mails_to("taken@example.cn")[0].body, "/invitations/")
    UserFactory(email="taken@example.cn")
    db.session.commit()
    before = counts()
    resp = other_client.post(f"/invitations/{token}", data={"name": "Taken", "password": "joining-password"})
    assert resp.status_code == 422
    assert "An account with this e-mail already exists." in resp.get_data(as_text=True)
    assert counts() == before
