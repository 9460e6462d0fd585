"""Outbound webhooks against a real receiver on loopback: signed, in order per object, retried with
backoff, logged, replayable, and an endpoint failing for a day switched off (a faked clock)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market import db
from market.db import utcnow
from market.notifications.models import Notification
from market.webhooks import delivery, services
from market.webhooks.models import OutboundEvent, WebhookAttempt, WebhookDelivery
from market.webhooks.signing import verify
from tests.escrow_factories import make_order, pay_in_full
from tests.factories import OrganisationFactory, RegulatorOrgFactory, UserFactory
from tests.oversight_factories import world
from tests.webhook_receiver import Receiver


def deliveries(endpoint_id: int) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id)))


@pytest.fixture
def gen_admin():
    return UserFactory(org=OrganisationFactory(types=["generator"]), is_org_admin=True)


def test_events_arrive_signed_and_in_order_per_object(gen_admin):
    order = make_order(gen_admin.org)
    with Receiver() as rx:
        ep, secret = services.create_endpoint(gen_admin, rx.url,
                                              ["order.status_changed", "funding.confirmed"])
        pay_in_full(order)
        rows = deliveries(ep.id)
        kinds = [d.event.type for d in rows]
        assert kinds == ["order.status_changed", "order.status_changed", "funding.confirmed"]
        # Tried newest first: each waits for the earlier one of the same order.
        now = utcnow()
        assert delivery.attempt(rows[2].id, now) == "waiting"
        assert delivery.attempt(rows[1].id, now) == "waiting"
        for d in rows:
            assert delivery.attempt(d.id, now) == "delivered"
        got = rx.accepted()
        assert len(got) == 3
        bodies = [json.loads(b) for _h, b in got]
        assert [b["type"] for b in bodies] == kinds
        assert [b["data"]["changes"]["status"] for b in bodies[:2]] == [
            ["contract_signed", "funding"], ["funding", "funded"]]
        assert bodies[2]["data"]["id"] == order.id and bodies[2]["data"]["number"] == order.number
        assert set(bodies[0]) == {"id", "type", "created_at", "data"}
        for headers, raw in got:
            sig = headers["Hazex-Signature"]
            assert verify(sig, raw, secret, int(now.timestamp()))
            assert not verify(sig, raw + b" ", secret, int(now.timestamp()))
            assert not verify(sig, raw, "whsec_wrong", int(now.timestamp()))
            # A replay of the same request six minutes later is refused.
            assert not verify(sig, raw, secret, int(now.timestamp()) + 360)


def test_unsubscribed_and_other_orgs_get_nothing(gen_admin):
    order = make_order()
    services.create_endpoint(gen_admin, "https://erp.example.cn/hooks", ["order.status_changed"])
    before = db.session.scalar(select(func.count()).select_from(OutboundEvent))
    pay_in_full(order)
    assert db.session.scalar(select(func.count()).select_from(OutboundEvent)) == before


def test_retried_after_two_failures_logged_and_replayable(gen_admin, client):
    order = make_order(gen_admin.org)
    with Receiver(fail_first=2) as rx:
        ep, secret = services.create_endpoint(gen_admin, rx.url, ["funding.confirmed"])
        pay_in_full(order)
        (d,) = deliveries(ep.id)
        t0 = utcnow()
        assert delivery.attempt(d.id, t0) == "pending"
        assert delivery.attempt(d.id, t0 + timedelta(seconds=5)) == "not_due"
        assert delivery.attempt(d.id, t0 + timedelta(seconds=31)) == "pending"
        t2 = t0 + timedelta(seconds=31 + 61)
        assert delivery.attempt(d.id, t2) == "delivered"
        codes = list(db.session.scalars(select(WebhookAttempt.status_code).where(
            WebhookAttempt.delivery_id == d.id).order_by(WebhookAttempt.id)))
        assert codes == [500, 500, 204]
        assert [c for _h, _b, c in rx.received] == [500, 500, 204]

        from tests.api.conftest import bearer
        headers = bearer(gen_admin)
        log = client.get(f"/api/v1/webhooks/{ep.id}/deliveries", headers=headers).get_json()
        assert log["items"][0]["status"] == "delivered"
        assert log["items"][0]["attempts"] == 3 and log["items"][0]["last_status_code"] == 204

        resp = client.post(f"/api/v1/webhooks/{ep.id}/deliveries/{d.id}/replay", headers=headers)
        assert resp.status_code == 201, resp.get_json()
        replayed = resp.get_json()
        assert replayed["replay_of"] == d.id and replayed["event_id"] == d.event.public_id
        assert delivery.attempt(replayed["id"]) == "delivered"
        first, again = json.loads(rx.accepted()[0][1]), json.loads(rx.accepted()[1][1])
        assert first["id"] == again["id"]
        assert verify(rx.accepted()[1][0]["Hazex-Signature"], rx.accepted()[1][1], secret,
                      int(utcnow().timestamp()))


def test_endpoint_failing_for_a_day_is_disabled_and_its_admin_told(gen_admin):
    order = make_order(gen_admin.org)
    with Receiver(always_fail=True) as rx:
        ep, _secret = services.create_endpoint(gen_admin, rx.url, ["order.status_changed"])
        pay_in_full(order)
        first = deliveries(ep.id)[0]
        now = utcnow()
        end = now + timedelta(hours=25)
        tries = 0
        while now < end and delivery.attempt(first.id, now) == "pending":
            tries += 1
            db.session.refresh(first)
            now = first.next_attempt_at or now + timedelta(hours=1)
        db.session.refresh(ep)
        assert not ep.active and ep.disabled_at is not None
        assert tries >= delivery.DISABLE_MIN_FAILURES
        note = db.session.scalar(select(Notification).where(
            Notification.user_id == gen_admin.id, Notification.kind == "webhook.disabled"))
        assert note is not None and rx.url in note.title
        # Nothing more is sent to a disabled endpoint.
        sent = len(rx.received)
        assert delivery.attempt(deliveries(ep.id)[1].id, now + timedelta(days=2)) == "inactive"
        assert len(rx.received) == sent


def test_the_scheduler_pushes_due_deliveries_again(gen_admin, redis_conn):
    """A lost push (Redis down at commit) is not lost: retry_due() pushes what is due."""
    from market.jobs.core import get_queue
    order = make_order(gen_admin.org)
    ep, _secret = services.create_endpoint(gen_admin, "https://erp.example.cn/h", ["funding.confirmed"])
    pay_in_full(order)
    get_queue("notifications").empty()
    assert delivery.retry_due(utcnow() - timedelta(hours=1)) == 0  # nothing due yet then
    assert delivery.retry_due(utcnow()) == 1
    assert len(get_queue("notifications")) == 1
    (d,) = deliveries(ep.id)
    assert d.status == "pending"


def test_a_manifests_steps_reach_the_carrier_in_order(gen_admin):
    """manifest.status_changed: created, shipped, received — to each party, in that order."""
    from tests.manifest_factories import carrier_user, funded_order, received
    operator = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    carrier = carrier_user()
    carrier_admin = UserFactory(org=carrier.org, is_org_admin=True)
    order = funded_order(gen_admin.org, operator.org, kg=1_000)
    with Receiver() as rx:
        ep, secret = services.create_endpoint(carrier_admin, rx.url, ["manifest.status_changed"])
        m = received(gen_admin, operator, order, carrier, kg=1_000)
        rows = deliveries(ep.id)
        now = utcnow()
        for d in reversed(rows):
            delivery.attempt(d.id, now)
        for d in rows:
            delivery.attempt(d.id, now)
        bodies = [json.loads(b) for _h, b in rx.accepted()]
        assert [b["data"]["id"] for b in bodies] == [m.id] * len(rows)
        assert bodies[-1]["data"]["status"] in ("received", "closed")  # settled at once: closed
        assert len(bodies) >= 3 and all(b["type"] == "manifest.status_changed" for b in bodies)



def test_alerts_reach_the_regulators_of_their_region_only():
    shenzhen = UserFactory(org=RegulatorOrgFactory(scope_prefix="4403", region_code="440300"),
                           is_org_admin=True)
    ep, _secret = services.create_endpoint(shenzhen, "https://eco.sz.example.cn/hooks",
                                           ["alert.raised"])
    inside, outside = world("4403", "深圳"), world("4406", "佛山")
    events = [d.event for d in deliveries(ep.id)]
    assert [(e.type, e.object_type) for e in events] == [("alert.raised", "oversight_alert")]
    assert events[0].data["id"] == inside.alert.id != outside.alert.id
    assert events[0].data["rule_id"] == inside.alert.rule_id
