"""Accounts use cases on the real database: registration, decisions, invitations, passwords, audit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from market import db
from market.accounts import services
from market.accounts.models import Invitation, Organisation, User
from market.accounts.passwords import check_password
from market.accounts.policies import normalise_credit_code
from market.audit.models import AuditEvent
from market.db import utcnow
from market.demo import credit_code
from market.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.notifications.models import EmailMessage, Notification
from tests.factories import OrganisationFactory, UserFactory

COUNTED = (Organisation, User, AuditEvent, Notification, EmailMessage, Invitation)



@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; outside a request the default locale is Chinese."""
    with force_locale("en"):
        yield

def settle() -> None:
    """Make the rows factories flushed survive a use case's rollback.

    Factories only flush into the test's savepoint; a use case that fails rolls that savepoint
    back, fixtures included, which would make a "nothing changed" check pass vacuously.
    """
    db.session.commit()


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def audit_events(action: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def registration(**overrides) -> dict:
    data = dict(name="深圳市测试注册有限公司", credit_code=credit_code("440306", "REG000001"),
                types=["generator"], region_code="440306", address="深圳市宝安区测试路2号",
                user_name="张三", email="zhang@example.cn", password="long-enough-pw",
                latitude=None, longitude=None)
    data.update(overrides)
    return data


# --- unified social credit code (GB 32100-2015, via python-stdnum) -------------------------------

@pytest.mark.parametrize("raw, canonical", [
    ("91110000600037341L", "91110000600037341L"),
    (" 91110000 600037341l", "91110000600037341L"),        # spaces and lower case normalised
    (credit_code("440306", "MA5D00001"), credit_code("440306", "MA5D00001")),
])
def test_valid_credit_codes_are_normalised(raw, canonical):
    assert normalise_credit_code(raw) == canonical


@pytest.mark.parametrize("raw, reason", [
    ("91110000600037341M", "check character"),            # wrong check character
    ("9111000060003734", "18 characters"),                 # too short
    ("91110000600037341LX", "18 characters"),              # too long
    ("91110000600037341I", ""),                             # I is never used in a credit code
    ("", "18 characters"),
])
def test_invalid_credit_codes_are_refused_with_reason(raw, reason):
    with pytest.raises(ValueError) as exc:
        normalise_credit_code(raw)
    assert reason in str(exc.value)


# --- registration --------------------------------------------------------------------------------

def test_registration_creates_pending_org_admin_user_audit_and_notifies_admins(admin):
    settle()
    before = counts()
    user = services.register_organisation(**registration(latitude=22.5, longitude=113.9))
    org = user.org
    assert org.status == "pending" and org.kind == "enterprise"
    assert org.types == ["generator"] and org.region_code == "440306"
    assert org.coordinates == (22.5, 113.9)
    assert user.is_org_admin and user.email == "zhang@example.cn"
    assert user.password_hash != "long-enough-pw" and check_password(user.password_hash, "long-enough-pw")
    after = counts()
    assert after["Organisation"] == before["Organisation"] + 1
    assert after["User"] == before["User"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    (event,) = audit_events("organisation.registered")
    assert (event.actor_user_id, event.actor_org_id) == (user.id, org.id)
    assert (event.object_type, event.object_id) == ("organisation", str(org.id))
    assert event.changes["credit_code"] == org.credit_code
    assert event.ip is None  # not through HTTP
    notes = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert len(notes) == 1 and notes[0].link == f"/admin/organisations/{org.id}"
    assert org.name in notes[0].title


def test_registration_without_coordinates_leaves_distance_unknown():
    user = services.register_organisation(**registration())
    assert user.org.latitude is None and user.org.coordinates is None


def test_registration_normalises_email_and_credit_code():
    code = credit_code("440306", "REG000009")
    user = services.register_organisation(**registration(email="  Mixed@Example.CN ",
                                                          credit_code=code.lower()))
    assert user.email == "mixed@example.cn" and user.org.credit_code == code


@pytest.mark.parametrize("overrides, field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "名" * 201}, "name"),
    ({"credit_code": "9144030600000001"}, "credit_code"),
    ({"credit_code": credit_code("440306", "REG000001")[:-1] + "0"}, "credit_code"),
    ({"types": []}, "types"),
    ({"types": ["broker"]}, "types"),
    ({"region_code": "999999"}, "region_code"),
    ({"region_code": ""}, "region_code"),
    ({"latitude": 22.5}, "latitude"),
    ({"longitude": 113.9}, "latitude"),
    ({"latitude": 91, "longitude": 113.9}, "latitude"),
    ({"latitude": 22.5, "longitude": 181}, "longitude"),
    ({"email": "not-an-address"}, "email"),
    ({"user_name": ""}, "user_name"),
    ({"password": "short"}, "password"),
])
def test_registration_refuses_bad_input_and_changes_nothing(overrides, field):
    if overrides.get("credit_code", "").endswith("0"):
        assert overrides["credit_code"] != credit_code("440306", "REG000001")
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.register_organisation(**registration(**overrides))
    assert exc.value.field == field
    assert exc.value.message
    assert counts() == before


def test_registration_refuses_duplicate_credit_code_and_email(generator):
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.register_organisation(**registration(credit_code=generator.org.credit_code))
    assert exc.value.field == "credit_code" and "already" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        services.register_organisation(**registration(email=generator.email.upper()))
    assert exc.value.field == "email" and "already" in exc.value.message
    assert counts() == before


# --- organisation decisions ----------------------------------------------------------------------

@pytest.mark.parametrize("start, action, reason, end", [
    ("pending", "verify", "", "verified"),
    ("rejected", "verify", "", "verified"),
    ("pending", "reject", "证照不清晰", "rejected"),
    ("verified", "suspend", "违规转移", "suspended"),
    ("suspended", "reinstate", "", "verified"),
])
def test_admin_decisions_change_status_audit_and_notify(admin, start, action, reason, end):
    org = OrganisationFactory(status=start)
    members = [UserFactory(org=org), UserFactory(org=org, is_org_admin=False)]
    UserFactory(org=org, active=False)
    settle()
    before = counts()
    services.decide_organisation(admin, org.id, action, reason)
    db.session.refresh(org)
    assert org.status == end
    assert org.status_reason == (reason or None)
    after = counts()
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    (event,) = audit_events(f"organisation.{action}")
    assert event.actor_user_id == admin.id and event.object_id == str(org.id)
    assert event.changes["status"] == [start, end]
    notified = set(db.session.scalars(select(Notification.user_id)
                                      .where(Notification.kind == f"org.{action}")))
    assert notified == {u.id for u in members}  # active members only


@pytest.mark.parametrize("start, action", [
    ("pending", "suspend"), ("verified", "reinstate"), ("verified", "verify"),
    ("rejected", "reject"), ("suspended", "reject"), ("pending", "reinstate"),
])
def test_admin_decisions_refuse_invalid_transitions(admin, start, action):
    org = OrganisationFactory(status=start)
    settle()
    before = counts()
    with pytest.raises(InvalidState):
        services.decide_organisation(admin, org.id, action, "a reason")
    db.session.refresh(org)
    assert org.status == start and counts() == before


@pytest.mark.parametrize("action", ["reject", "suspend"])
def test_reject_and_suspend_need_a_reason(admin, action):
    org = OrganisationFactory(status="pending" if action == "reject" else "verified")
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.decide_organisation(admin, org.id, action, "   ")
    assert exc.value.field == "reason"
    db.session.refresh(org)
    assert org.status in ("pending", "verified") and counts() == before


@pytest.mark.parametrize("role", ["generator", "finance", "regulator", "operator"])
def test_only_platform_admins_decide(request, role):
    actor = request.getfixturevalue(role)
    org = OrganisationFactory(status="pending")
    settle()
    before = counts()
    with pytest.raises(PermissionDenied):
        services.decide_organisation(actor, org.id, "verify")
    assert counts() == before


def test_decisions_on_unknown_or_non_enterprise_org_are_not_found(admin, regulator):
    settle()
    with pytest.raises(NotFound):
        services.decide_organisation(admin, 10**9, "verify")
    with pytest.raises(NotFound):
        services.decide_organisation(admin, regulator.org_id, "suspend", "x")
    with pytest.raises(ValidationFailed):
        services.decide_organisation(admin, regulator.org_id, "delete")


# --- invitations ---------------------------------------------------------------------------------

def test_invitation_creates_email_and_joins_inviters_org(generator):
    settle()
    before = counts()
    token = services.invite_user(generator, "colleague@example.cn")
    after = counts()
    assert after["Invitation"] == before["Invitation"] + 1
    assert after["EmailMessage"] == before["EmailMessage"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    mail = db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == "colleague@example.cn"))
    assert f"/invitations/{token}" in mail.body
    inv = db.session.scalar(select(Invitation))
    assert token not in inv.token_hash  # only the hash is stored

    user = services.accept_invitation(token, name="李四", password="another-long-pw")
    assert user.org_id == generator.org_id and not user.is_org_admin
    assert user.email == "colleague@example.cn"
    assert check_password(user.password_hash, "another-long-pw")
    (event,) = audit_events("user.joined")
    assert event.actor_user_id == user.id and event.actor_org_id == generator.org_id
    with pytest.raises(NotFound):
        services.accept_invitation(token, name="again", password="another-long-pw")


def test_only_org_admins_invite(generator):
    member = UserFactory(org=generator.org, is_org_admin=False)
    settle()
    before = counts()
    with pytest.raises(PermissionDenied):
        services.invite_user(member, "x@example.cn")
    assert counts() == before


def test_invitation_to_existing_email_refused(generator, operator):
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.invite_user(generator, operator.email)
    assert exc.value.field == "email"
    with pytest.raises(ValidationFailed):
        services.invite_user(generator, "no-at-sign")
    assert counts() == before


def test_expired_and_unknown_invitations_not_found(generator):
    token = services.invite_user(generator, "late@example.cn")
    inv = db.session.scalar(select(Invitation))
    inv.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    settle()
    before = counts()
    with pytest.raises(NotFound):
        services.accept_invitation(token, name="Late", password="another-long-pw")
    with pytest.raises(NotFound):
        services.find_invitation("not-a-token")
    assert counts() == before


def test_accepting_refuses_short_password_and_email_taken_meanwhile(generator):
    token = services.invite_user(generator, "race@example.cn")
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.accept_invitation(token, name="Race", password="short")
    assert exc.value.field == "password"
    with pytest.raises(ValidationFailed) as exc:
        services.accept_invitation(token, name="", password="long-enough-pw")
    assert exc.value.field == "name"
    assert counts() == before
    UserFactory(email="race@example.cn")
    with pytest.raises(ValidationFailed) as exc:
        services.accept_invitation(token, name="Race", password="long-enough-pw")
    assert exc.value.field == "email"
    assert db.session.scalar(select(Invitation.accepted_at)) is None


# --- authentication and passwords ----------------------------------------------------------------

def test_authenticate(generator):
    from tests.factories import PASSWORD
    assert services.authenticate(generator.email.upper(), PASSWORD).id == generator.id
    assert services.authenticate(generator.email, "wrong-password") is None
    assert services.authenticate("nobody@example.cn", PASSWORD) is None
    generator.active = False
    db.session.flush()
    assert services.authenticate(generator.email, PASSWORD) is None


def _reset_token(email: str) -> str:
    mail = db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == email)
                             .order_by(EmailMessage.id.desc()))
    assert "/reset/" in mail.body
    return mail.body.split("/reset/", 1)[1].split()[0]


def test_password_reset_once(generator):
    services.request_password_reset(generator.email)
    token = _reset_token(generator.email)
    services.reset_password(token, "brand-new-password")
    db.session.refresh(generator)
    assert check_password(generator.password_hash, "brand-new-password")
    assert [e.action for e in audit_events()][-2:] == ["user.password_reset_requested",
                                                      "user.password_reset"]
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.reset_password(token, "yet-another-password")
    assert "already been used" in exc.value.message
    db.session.refresh(generator)
    assert check_password(generator.password_hash, "brand-new-password")
    assert counts() == before


def test_password_reset_unknown_address_sends_nothing():
    settle()
    before = counts()
    services.request_password_reset("nobody@example.cn")
    assert counts() == before


def test_password_reset_expired_tampered_or_short(app, generator):
    hash_before = generator.password_hash
    services.request_password_reset(generator.email)
    token = _reset_token(generator.email)
    settle()
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        services.reset_password(token, "short")
    assert exc.value.field == "password"
    with pytest.raises(ValidationFailed) as exc:
        services.reset_password(token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                                "long-enough-pw")
    assert "not valid" in exc.value.message
    old = app.config["PASSWORD_RESET_MAX_AGE"]
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        with pytest.raises(ValidationFailed) as exc:
            services.reset_password(token, "long-enough-pw")
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = old
    assert "expired" in exc.value.message
    db.session.refresh(generator)
    assert generator.password_hash == hash_before and counts() == before


def test_set_locale_persists_and_refuses_unknown(generator):
    services.set_locale(generator, "en")
    db.session.refresh(generator)
    assert generator.locale == "en"
    settle()
    before = counts()
    with pytest.raises(ValidationFailed):
        services.set_locale(generator, "fr")
    services.set_locale(generator, "en")  # unchanged: no audit row
    assert counts() == before


# --- the audit trail is append-only --------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'forged' WHERE id = :id",
    "DELETE FROM audit_event WHERE id = :id",
    "TRUNCATE audit_event",
])
def test_audit_rows_cannot_be_changed_or_deleted(generator, statement):
    services.set_locale(generator, "en")
    (event,) = audit_events("user.locale")
    with pytest.raises(DBAPIError) as exc:
        with db.session.begin_nested():
            db.session.execute(text(statement), {"id": event.id})
    assert "append-only" in str(exc.value)
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).action == "user.locale"
