"""The webhooks page: an admin adds an endpoint and sees its secret once, reads the log, replays."""
from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import func, select

from market import db
from market.webhooks import services
from market.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.escrow_factories import make_order, pay_in_full
from tests.factories import OrganisationFactory, UserFactory
from tests.fixtures import login


def test_admin_adds_endpoint_reads_log_and_replays(client):
    admin = UserFactory(org=OrganisationFactory(types=["generator"]), is_org_admin=True)
    login(client, admin)
    resp = client.post("/webhooks", data={"url": "https://erp.example.cn/hz",
                                          "events": ["funding.confirmed"]})
    assert resp.status_code == 201
    page = resp.get_data(as_text=True)
    assert 'data-testid="webhook-secret"' in page and "whsec_" in page
    assert "whsec_" not in client.get("/webhooks").get_data(as_text=True)
    ep = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.org_id == admin.org_id))
    order = make_order(admin.org)
    pay_in_full(order)
    log = client.get(f"/webhooks?ep={ep.id}").get_data(as_text=True)
    assert "funding.confirmed" in log and f"trade_order:{order.id}" in log
    (d,) = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id))
    resp = client.post("/webhooks/replay", data={"endpoint_id": ep.id, "delivery_id": d.id})
    assert resp.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.replay_of == d.id)) == 1


def test_bad_url_is_refused_with_the_rule_and_nothing_added(client):
    admin = UserFactory(org=OrganisationFactory(types=["operator"]), is_org_admin=True)
    login(client, admin)
    with force_locale("en"):
        resp = client.post("/webhooks", data={"url": "javascript:alert(1)",
                                              "events": ["quote.submitted"]})
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_another_orgs_endpoint_log_is_404(client):
    theirs = UserFactory(org=OrganisationFactory(types=["operator"]), is_org_admin=True)
    ep, _secret = services.create_endpoint(theirs, "https://x.example.cn/", ["quote.submitted"])
    me = UserFactory(org=OrganisationFactory(types=["generator"]), is_org_admin=True)
    login(client, me)
    assert client.get(f"/webhooks?ep={ep.id}").status_code == 404
    assert client.post("/webhooks/delete", data={"endpoint_id": ep.id}).status_code == 404
    db.session.refresh(ep)
    assert ep.deleted_at is None
