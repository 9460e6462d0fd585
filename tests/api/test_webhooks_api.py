"""POST/GET/DELETE /api/v1/webhooks: admins only, the secret shown once, bad input changes nothing."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.webhooks.models import WebhookEndpoint
from market.webhooks.services import _regulators_over
from tests.api.conftest import bearer, error_of
from tests.factories import OrganisationFactory, RegulatorOrgFactory, UserFactory


def endpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


@pytest.fixture
def admin_user():
    return UserFactory(org=OrganisationFactory(types=["operator"]), is_org_admin=True)


def test_register_list_delete(client, admin_user):
    h = bearer(admin_user)
    resp = client.post("/api/v1/webhooks", headers=h, json={
        "url": "https://erp.example.cn/hazex", "events": ["order.status_changed", "quote.submitted"]})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["quote.submitted", "order.status_changed"]
    listed = client.get("/api/v1/webhooks", headers=h).get_json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]
    assert client.get(f"/api/v1/webhooks/{body['id']}/deliveries", headers=h).get_json() == {
        "items": [], "next": None}
    assert client.delete(f"/api/v1/webhooks/{body['id']}", headers=h).get_json() == {
        "id": body["id"], "deleted": True}
    assert client.get("/api/v1/webhooks", headers=h).get_json()["items"] == []


@pytest.mark.parametrize("payload, field", [
    ({"url": "ftp://x.cn/", "events": ["quote.submitted"]}, "url"),
    ({"url": "", "events": ["quote.submitted"]}, "url"),
    ({"url": "https://x.cn/", "events": []}, "events"),
    ({"url": "https://x.cn/", "events": ["order.exploded"]}, "events"),
    ({"url": "https://x.cn/", "events": ["quote.submitted"], "secret": "mine"}, "secret"),
])
def test_bad_input_names_the_field_and_changes_nothing(client, admin_user, payload, field):
    before = endpoints()
    with force_locale("en"):
        resp = client.post("/api/v1/webhooks", headers=bearer(admin_user), json=payload)
    assert resp.status_code == 422
    assert error_of(resp)["field"] == field
    assert endpoints() == before


def test_only_the_org_admin_manages_and_other_orgs_see_nothing(client, admin_user):
    member = UserFactory(org=admin_user.org, is_org_admin=False)
    before = endpoints()
    resp = client.post("/api/v1/webhooks", headers=bearer(member),
                       json={"url": "https://x.cn/", "events": ["quote.submitted"]})
    assert resp.status_code == 403 and endpoints() == before
    created = client.post("/api/v1/webhooks", headers=bearer(admin_user),
                          json={"url": "https://x.cn/", "events": ["quote.submitted"]}).get_json()
    stranger = UserFactory(org=OrganisationFactory(types=["generator"]), is_org_admin=True)
    assert client.get(f"/api/v1/webhooks/{created['id']}/deliveries",
                      headers=bearer(stranger)).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{created['id']}",
                         headers=bearer(stranger)).status_code == 404
    assert client.get("/api/v1/webhooks", headers=bearer(stranger)).get_json()["items"] == []
    assert endpoints() == before + 1


def test_a_regulator_registers_an_endpoint_for_alerts_in_its_region(client):
    reg = UserFactory(org=RegulatorOrgFactory(scope_prefix="4403", region_code="440300"),
                      is_org_admin=True)
    resp = client.post("/api/v1/webhooks", headers=bearer(reg),
                       json={"url": "https://sz-bureau.example.cn/hz", "events": ["alert.raised"]})
    assert resp.status_code == 201, resp.get_json()
    assert reg.org_id in _regulators_over("440306") and reg.org_id not in _regulators_over("441900")
