"""Platform administration through the web: organisation decisions, document decisions, browsers."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts.models import Licence, Organisation, Permit
from market.audit.models import AuditEvent
from market.notifications.models import EmailMessage, Notification
from tests.factories import (PASSWORD, LicenceFactory, LicenceItemFactory, OrganisationFactory,
                             PermitFactory, UserFactory)

COUNTED = (Organisation, Licence, Permit, AuditEvent, Notification, EmailMessage)
IP = "203.0.113.40"





def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


def as_user(client, user):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.environ_base["REMOTE_ADDR"] = IP
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def admin_client(client, admin):
    return as_user(client, admin)


def last_event() -> AuditEvent:
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def org_with_users(status: str) -> tuple[Organisation, list]:
    org = OrganisationFactory(status=status)
    users = [UserFactory(org=org), UserFactory(org=org, is_org_admin=False)]
    UserFactory(org=org, active=False)  # never notified
    db.session.commit()
    return org, users


# --- organisation decisions ------------------------------------------------------------------------

@pytest.mark.parametrize("start, action, reason, end", [
    ("pending", "verify", "", "verified"),
    ("pending", "reject", "营业执照与名称不符", "rejected"),
    ("rejected", "verify", "", "verified"),
    ("verified", "suspend", "多次违规", "suspended"),
    ("suspended", "reinstate", "", "verified"),
])
def test_decision_changes_status_audits_once_and_notifies(admin_client, admin, start, action, reason, end):
    org, users = org_with_users(start)
    before = counts()
    resp = admin_client.post(f"/admin/organisations/{org.id}", data={"action": action, "reason": reason})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/admin/organisations/{org.id}"
    db.session.refresh(org)
    assert org.status == end and org.status_reason == (reason or None)
    after = counts()
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    event = last_event()
    assert event.action == f"organisation.{action}"
    assert (event.object_type, event.object_id) == ("organisation", str(org.id))
    assert (event.actor_user_id, event.actor_org_id, event.ip) == (admin.id, admin.org_id, IP)
    assert event.changes["status"] == [start, end]
    if reason:
        assert event.changes["status_reason"] == [None, reason]
    notes = db.session.scalars(select(Notification).where(Notification.kind == f"org.{action}")).all()
    assert sorted(n.user_id for n in notes) == sorted(u.id for u in users)
    assert all(n.body == reason for n in notes)
    assert after["EmailMessage"] == before["EmailMessage"] + len(users)
    page = admin_client.get(f"/admin/organisations/{org.id}").get_data(as_text=True)
    assert f'data-status="{end}"' in page


def test_the_organisation_sees_the_decision(client, admin_client, generator):
    generator.org.status = "pending"
    db.session.commit()
    admin_client.post(f"/admin/organisations/{generator.org_id}", data={"action": "reject",
                                                                         "reason": "证照模糊"})
    other = client.application.test_client()
    as_user(other, generator)
    page = other.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="verification-banner"' in page and "证照模糊" in page
    inbox = other.get("/inbox").get_data(as_text=True)
    assert "rejected" in inbox


@pytest.mark.parametrize("start, action", [("pending", "reject"), ("verified", "suspend")])
def test_reject_or_suspend_without_reason_is_422(admin_client, start, action):
    org, _ = org_with_users(start)
    before = counts()
    resp = admin_client.post(f"/admin/organisations/{org.id}", data={"action": action, "reason": "  "})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-field="reason"' in html and "A reason is required." in html
    db.session.refresh(org)
    assert org.status == start and counts() == before


def test_overlong_reason_is_422(admin_client):
    org, _ = org_with_users("pending")
    before = counts()
    resp = admin_client.post(f"/admin/organisations/{org.id}",
                             data={"action": "reject", "reason": "理" * 1001})
    assert resp.status_code == 422 and 'data-field="reason"' in resp.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize("start, action", [
    ("pending", "suspend"), ("verified", "reinstate"), ("verified", "verify"),
    ("suspended", "reject"), ("rejected", "suspend"), ("pending", "reinstate"),
])
def test_invalid_transition_is_409(admin_client, start, action):
    org, _ = org_with_users(start)
    before = counts()
    resp = admin_client.post(f"/admin/organisations/{org.id}", data={"action": action, "reason": "因为"})
    assert resp.status_code == 409
    db.session.refresh(org)
    assert org.status == start and counts() == before


def test_unknown_action_and_unknown_org(admin_client):
    org, _ = org_with_users("pending")
    before = counts()
    assert admin_client.post(f"/admin/organisations/{org.id}", data={"action": "delete"}).status_code == 422
    assert admin_client.post("/admin/organisations/999999", data={"action": "verify"}).status_code == 404
    assert admin_client.get("/admin/organisations/999999").status_code == 404
    assert counts() == before


def test_regulators_and_platform_orgs_are_not_decided(admin_client, regulator):
    db.session.commit()
    before = counts()
    resp = admin_client.post(f"/admin/organisations/{regulator.org_id}",
                             data={"action": "suspend", "reason": "x"})
    assert resp.status_code == 404 and counts() == before


@pytest.mark.parametrize("role", ["generator", "operator", "carrier", "lab", "finance", "regulator"])
def test_non_admins_get_403(request, client, role):
    org, _ = org_with_users("pending")
    lic = LicenceItemFactory(licence=LicenceFactory(status="pending")).licence
    db.session.commit()
    as_user(client, request.getfixturevalue(role))
    before = counts()
    assert client.post(f"/admin/organisations/{org.id}", data={"action": "verify"}).status_code == 403
    assert client.post(f"/admin/documents/licence/{lic.id}", data={"action": "verify"}).status_code == 403
    for path in ("/admin/organisations", f"/admin/organisations/{org.id}", "/admin/documents",
                 "/admin/audit", "/admin/emails"):
        assert client.get(path).status_code == 403, path
    assert counts() == before
    db.session.refresh(org)
    assert org.status == "pending"


def test_anonymous_is_sent_to_login(client):
    org, _ = org_with_users("pending")
    resp = client.post(f"/admin/organisations/{org.id}", data={"action": "verify"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    db.session.refresh(org)
    assert org.status == "pending"


# --- documents -------------------------------------------------------------------------------------

def pending_licence(with_items: bool = True) -> tuple[Licence, object]:
    holder = UserFactory(org=OrganisationFactory(types=["operator"]))
    lic = LicenceFactory(org=holder.org, status="pending")
    if with_items:
        LicenceItemFactory(licence=lic)
    db.session.commit()
    return lic, holder


def test_admin_verifies_licence(admin_client, admin):
    lic, holder = pending_licence()
    page = admin_client.get("/admin/documents").get_data(as_text=True)
    assert lic.number in page
    before = counts()
    resp = admin_client.post(f"/admin/documents/licence/{lic.id}", data={"action": "verify", "reason": ""})
    assert resp.status_code == 302
    db.session.refresh(lic)
    assert lic.status == "verified"
    assert counts()["AuditEvent"] == before["AuditEvent"] + 1
    event = last_event()
    assert (event.action, event.object_id, event.actor_user_id, event.ip) == \
        ("licence.verified", str(lic.id), admin.id, IP)
    assert event.changes["status"] == ["pending", "verified"]
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == holder.id)).all()
    assert lic.number in note.title
    assert lic.number not in admin_client.get("/admin/documents").get_data(as_text=True)


def test_licence_without_items_cannot_be_verified(admin_client):
    lic, _ = pending_licence(with_items=False)
    before = counts()
    resp = admin_client.post(f"/admin/documents/licence/{lic.id}", data={"action": "verify"})
    assert resp.status_code == 409
    assert "without items" in resp.get_data(as_text=True)
    db.session.refresh(lic)
    assert lic.status == "pending" and counts() == before


@pytest.mark.parametrize("kind", ["licence", "permit"])
def test_reject_document_needs_reason(admin_client, kind):
    if kind == "licence":
        doc, holder = pending_licence()
    else:
        holder = UserFactory(org=OrganisationFactory(types=["carrier"]))
        doc = PermitFactory(org=holder.org, status="pending")
        db.session.commit()
    before = counts()
    resp = admin_client.post(f"/admin/documents/{kind}/{doc.id}", data={"action": "reject", "reason": ""})
    assert resp.status_code == 422 and 'data-field="reason"' in resp.get_data(as_text=True)
    assert counts() == before
    resp = admin_client.post(f"/admin/documents/{kind}/{doc.id}",
                             data={"action": "reject", "reason": "扫描件缺页"})
    assert resp.status_code == 302
    db.session.refresh(doc)
    assert (doc.status, doc.status_reason) == ("rejected", "扫描件缺页")
    after = counts()
    assert after["AuditEvent"] == before["AuditEvent"] + 1
    assert last_event().action == f"{kind}.rejected"
    note = db.session.scalar(select(Notification).where(Notification.user_id == holder.id))
    assert note.body == "扫描件缺页"
    # Decided documents are final.
    resp = admin_client.post(f"/admin/documents/{kind}/{doc.id}", data={"action": "verify"})
    assert resp.status_code == 409 and counts() == after


def test_admin_verifies_permits(admin_client, carrier, lab):
    for user, kind in ((carrier, "transport"), (lab, "cma")):
        permit = PermitFactory(org=user.org, kind=kind, status="pending")
        db.session.commit()
        resp = admin_client.post(f"/admin/documents/permit/{permit.id}", data={"action": "verify"})
        assert resp.status_code == 302
        db.session.refresh(permit)
        assert permit.status == "verified"
        assert last_event().action == "permit.verified"


def test_unknown_document_kind_or_id_is_404(admin_client):
    assert admin_client.post("/admin/documents/passport/1", data={"action": "verify"}).status_code == 404
    assert admin_client.post("/admin/documents/licence/999999", data={"action": "verify"}).status_code == 404


# --- browsers --------------------------------------------------------------------------------------

def test_queues_audit_and_outbox_render(admin_client, admin):
    org, _ = org_with_users("pending")
    admin_client.post(f"/admin/organisations/{org.id}", data={"action": "verify"})
    listing = admin_client.get("/admin/organisations?status=all")
    assert listing.status_code == 200 and org.name in listing.get_data(as_text=True)
    assert org.name not in admin_client.get("/admin/organisations").get_data(as_text=True)  # pending only
    audit = admin_client.get("/admin/audit?action=organisation.")
    assert audit.status_code == 200 and "organisation.verify" in audit.get_data(as_text=True)
    filtered = admin_client.get("/admin/audit?action=licence.").get_data(as_text=True)
    assert "organisation.verify" not in filtered
    assert admin_client.get("/admin/audit?actor=abc").status_code == 422
    emails = admin_client.get("/admin/emails")
    assert emails.status_code == 200 and org.users[0].email in emails.get_data(as_text=True)
