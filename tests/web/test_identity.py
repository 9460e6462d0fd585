"""Verified identities stay verified; platform staff are made by admins only (issue 9, items 1, 3).

A verified organisation's name, credit code, types and region change only when an admin approves a
change request; until then nothing live changes. Platform roles are granted by admins only;
belonging to the platform organisation grants no reads.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from market import db
from market.accounts import changes, services, staff
from market.accounts.models import Invitation, Organisation, OrgChangeRequest, User
from market.audit.models import AuditEvent
from market.contracts import services as contracts
from market.orders import lifecycle
from market.demo import credit_code
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.notifications.models import Notification
from tests.api.conftest import bearer
from tests.factories import PASSWORD, OrganisationFactory, UserFactory
from tests.sampling_factories import order_for, render_all
from tests.state import fingerprint
from tests.web.test_admin import as_user
from tests.web.test_sampling_web import text

ATTACK = {"name": "广东省生态环境厅", "region_code": "440605", "address": "深圳市宝安区测试路1号"}


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def organisation_row(org_id: int) -> tuple:
    db.session.expire_all()
    org = db.session.get(Organisation, org_id)
    return org.name, org.credit_code, list(org.types), org.region_code, org.status


# --- 1. a verified identity stays verified -----------------------------------------------------------

def test_the_rename_and_move_attack_is_queued_with_nothing_live_changed(client, generator, admin):
    org_before = organisation_row(generator.org_id)
    as_user(client, generator)
    resp = client.post("/account/organisation", data={
        **ATTACK, "credit_code": generator.org.credit_code, "types": generator.org.types})
    assert resp.status_code == 302
    assert organisation_row(generator.org_id) == org_before
    [req] = db.session.scalars(select(OrgChangeRequest)).all()
    assert (req.status, req.changes, req.previous) == (
        "pending", {"name": "广东省生态环境厅", "region_code": "440605"},
        {"name": org_before[0], "region_code": org_before[3]})
    assert "organisation.change_requested" in actions()
    page = client.get("/account/organisation", headers={"Accept-Language": "en"})
    assert "Change awaiting approval" in text(page) and "广东省生态环境厅" in text(page)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == admin.id, Notification.kind == "org.change_requested")) == 1
    # the regulator of Shenzhen still sees the organisation where it was verified
    assert organisation_row(generator.org_id)[3] == "440306"


def test_admin_rejects_with_a_reason_and_nothing_changes(client, generator, admin):
    changes_req = _request(generator, **ATTACK)
    org_before = organisation_row(generator.org_id)
    as_user(client, admin)
    assert "广东省生态环境厅" in text(client.get("/admin/changes"))
    before = fingerprint()
    resp = client.post(f"/admin/changes/{changes_req.id}", data={"action": "reject", "reason": ""})
    assert resp.status_code == 302 and fingerprint() == before  # a reason is required
    client.post(f"/admin/changes/{changes_req.id}", data={"action": "reject", "reason": "冒用机关名称"})
    db.session.expire_all()
    assert changes_req.status == "rejected" and changes_req.reason == "冒用机关名称"
    assert organisation_row(generator.org_id) == org_before
    assert actions()[-1] == "organisation.change_rejected"


def test_admin_approves_and_the_new_values_go_live(client, generator, admin):
    req = _request(generator, name="深圳市华芯电子科技有限公司", address="新地址", region_code="440305")
    as_user(client, admin)
    # the regions are shown with their names, not as bare codes
    row = client.get("/admin/changes").get_data(as_text=True)
    assert "广东省 › 深圳市 › 宝安区 (440306)" in row and "广东省 › 深圳市 › 南山区 (440305)" in row
    client.post(f"/admin/changes/{req.id}", data={"action": "approve", "reason": ""})
    assert organisation_row(generator.org_id)[0] == "深圳市华芯电子科技有限公司"
    assert organisation_row(generator.org_id)[3] == "440305"
    assert actions()[-1] == "organisation.change_approved"
    again = client.post(f"/admin/changes/{req.id}", data={"action": "reject", "reason": "x"})
    assert again.status_code == 302 and organisation_row(generator.org_id)[0] == "深圳市华芯电子科技有限公司"


def test_address_changes_at_once_and_an_unverified_organisation_edits_freely(generator):
    services.update_profile(generator, name=generator.org.name, address="新地址 8 号",
                            region_code=generator.org.region_code)
    assert db.session.get(Organisation, generator.org_id).address == "新地址 8 号"
    assert changes.pending_for(generator.org_id) is None
    pending = UserFactory(org=OrganisationFactory(status="pending"))
    services.update_profile(pending, name="更正后的名称", address="x", region_code="440305")
    assert organisation_row(pending.org_id)[0] == "更正后的名称"
    assert changes.pending_for(pending.org_id) is None


def test_a_second_request_replaces_the_first_and_a_clash_is_refused_at_approval(generator, admin):
    first = _request(generator, name="名称一")
    second = _request(generator, name="名称二")
    db.session.expire_all()
    assert (first.status, second.status) == ("withdrawn", "pending")
    other = OrganisationFactory()
    with pytest.raises(ValidationFailed) as exc:
        services.update_profile(generator, name="名称二", address="x", region_code="440306",
                                credit_code=other.credit_code)
    assert exc.value.field == "credit_code"
    # only an admin decides
    third = _request(generator, credit_code=_free_code())
    with pytest.raises(PermissionDenied):
        changes.decide_change(generator, third.id, True)
    changes.decide_change(admin, third.id, True)
    assert organisation_row(generator.org_id)[1] == third.changes["credit_code"]


def test_order_and_contract_pages_keep_the_signed_names(client, generator, operator, admin):
    order = order_for(generator, operator, sampling=False)
    render_all()
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    signed_generator, signed_operator = generator.org.name, operator.org.name
    for user, new in ((generator, "改名后的产废单位有限公司"), (operator, "改名后的经营单位有限公司")):
        req = _request(user, name=new)
        changes.decide_change(admin, req.id, True)
    for user in (generator, operator):
        as_user(client, user)
        page = client.get(f"/orders/{order.id}").get_data(as_text=True)
        assert _cell(page, 'data-testid="order-generator"') == signed_generator
        assert signed_operator in _cell(page, 'data-testid="order-operator"')
        contract = client.get(f"/orders/{order.id}/contract").get_data(as_text=True)
        rows = re.findall(r'data-testid="signature"[^>]*>(.*?)</tr>', contract, re.S)
        assert len(rows) == 2 and all("改名后的" not in r for r in rows)
        assert signed_generator in rows[0] + rows[1] and signed_operator in rows[0] + rows[1]
        client.post("/logout")
    # the public verification of the signed PDF names the parties as they signed
    render_all()
    db.session.expire_all()
    digest = contracts.contract_of(order.id).current.document("final").sha256
    verified = re.findall(r'data-testid="verify-signature">(.*?)</li>',
                          client.get(f"/contracts/verify?sha256={digest}").get_data(as_text=True))
    assert len(verified) == 2 and all("改名后的" not in v for v in verified)


def _cell(page: str, marker: str) -> str:
    """The text of the element carrying `marker`."""
    return re.sub(r"<[^>]+>", "", re.search(marker + r"[^>]*>(.*?)</dd>", page, re.S).group(1)).strip()


def _request(user, **fields) -> OrgChangeRequest:
    org = user.org
    services.update_profile(user, name=fields.get("name", org.name),
                            address=fields.get("address", org.address),
                            region_code=fields.get("region_code", org.region_code),
                            credit_code=fields.get("credit_code"), types=fields.get("types"))
    req = changes.pending_for(org.id)
    assert req is not None
    return req


def _free_code() -> str:
    return credit_code("440305", "T99999999")


# --- 3. platform staff are made by admins only --------------------------------------------------------

def test_finance_cannot_invite_anyone_into_the_platform(client, finance):
    as_user(client, finance)
    before = fingerprint()
    resp = client.post("/account/users", data={"email": "mole@example.cn", "platform_role": "admin"})
    assert resp.status_code == 403 and fingerprint() == before
    with pytest.raises(PermissionDenied):
        services.invite_user(finance, "mole@example.cn")


def test_an_admin_invites_with_the_role_it_grants(client, admin):
    as_user(client, admin)
    before = fingerprint()
    resp = client.post("/account/users", data={"email": "new@example.cn"})
    assert resp.status_code == 422 and fingerprint() == before
    token = services.invite_user(admin, "new@example.cn", "finance")
    assert db.session.scalar(select(Invitation.platform_role)) == "finance"
    user = services.accept_invitation(token, name="新同事", password="long-enough-pw")
    assert (user.platform_role, user.is_platform) == ("finance", True)


def test_tenants_grant_no_platform_roles(generator):
    with pytest.raises(PermissionDenied):
        services.invite_user(generator, "x@example.cn", "admin")
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_only_admins_grant_and_withdraw_roles_and_never_their_own(client, admin, finance):
    member = UserFactory(org=admin.org, platform_role=None)
    with pytest.raises(PermissionDenied):
        staff.set_platform_role(finance, member.id, "finance")
    with pytest.raises(PermissionDenied):
        staff.set_platform_role(admin, admin.id, None)
    with pytest.raises(NotFound):
        staff.set_platform_role(admin, UserFactory().id, "finance")
    as_user(client, admin)
    assert member.email in client.get("/admin/staff").get_data(as_text=True)
    client.post("/admin/staff/role", data={"user_id": member.id, "platform_role": "finance"})
    db.session.expire_all()
    assert member.platform_role == "finance" and actions()[-1] == "user.platform_role"
    client.post("/admin/staff/role", data={"user_id": member.id, "platform_role": ""})
    db.session.expire_all()
    assert member.platform_role is None


def test_a_role_less_platform_member_reads_no_tenant_data_over_the_api(client, admin, generator,
                                                                       operator):
    order = order_for(generator, operator, sampling=False)
    member = UserFactory(org=admin.org, platform_role=None)
    headers = bearer(member)
    assert client.get(f"/api/v1/orders/{order.id}", headers=headers).status_code == 404
    assert client.get("/api/v1/orders", headers=headers).get_json()["items"] == []
    assert client.get(f"/api/v1/orders/{order.id}", headers=bearer(admin)).status_code == 200
    assert not User.is_platform.fget(member)


def test_types_and_credit_code_from_the_form_wait_for_approval_too(client, generator):
    as_user(client, generator)
    new_code = credit_code("440306", "T88888888")
    org_before = organisation_row(generator.org_id)
    resp = client.post("/account/organisation", data={
        "name": generator.org.name, "credit_code": new_code, "types": ["generator", "operator"],
        "region_code": generator.org.region_code, "address": generator.org.address})
    assert resp.status_code == 302
    assert organisation_row(generator.org_id) == org_before
    assert changes.pending_for(generator.org_id).changes == {
        "credit_code": new_code, "types": ["generator", "operator"]}
