"""GET /api/v1/orders/{id} lists the caller's actions, and the list follows the order's moves."""
from __future__ import annotations

from market import db
from market.orders import lifecycle
from tests.api.conftest import bearer
from tests.escrow_factories import dispute_on, pay_in_full, set_status
from tests.factories import PASSWORD, RegulatorOrgFactory, UserFactory
from tests.sampling_factories import order_for, render_all


def actions(client, user, order) -> list[str]:
    resp = client.get(f"/api/v1/orders/{order.id}", headers=bearer(user))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["actions"]


def test_the_actions_follow_the_order_from_contract_to_funded(client, generator, operator, admin):
    order = order_for(generator, operator, sampling=False)
    render_all()
    assert actions(client, generator, order) == ["sign_contract", "cancel"]
    assert actions(client, operator, order) == ["sign_contract", "cancel"]
    assert actions(client, admin, order) == ["cancel"]

    lifecycle.sign_contract(generator, order.id, PASSWORD)
    assert actions(client, generator, order) == ["cancel"]
    assert actions(client, operator, order) == ["sign_contract", "cancel"]

    lifecycle.sign_contract(operator, order.id, PASSWORD)
    db.session.refresh(order)
    assert order.status == "contract_signed"
    assert actions(client, generator, order) == ["fund", "cancel"]  # the generator pays
    assert actions(client, operator, order) == ["cancel"]

    lifecycle.request_funding(generator, order.id)
    assert actions(client, generator, order)[0] == "fund"

    pay_in_full(order)
    assert order.status == "funded"
    # The waste may move now: the generator's next step is a manifest.
    assert actions(client, generator, order) == ["create_manifest", "propose_cancellation"]
    assert actions(client, operator, order) == ["propose_cancellation"]
    assert actions(client, admin, order) == ["cancel"]


def test_after_a_receipt_the_parties_may_dispute_and_the_admin_resolves(client, generator,
                                                                        operator, admin):
    order = order_for(generator, operator, sampling=False)
    render_all()
    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    pay_in_full(db.session.get(type(order), order.id))
    set_status(order, "received")
    assert actions(client, generator, order) == ["dispute"]
    dispute_on(order, generator)
    set_status(order, "disputed")
    assert actions(client, generator, order) == []
    assert actions(client, admin, order) == ["resolve_dispute"]


def test_a_regulator_reads_without_actions(client, generator, operator):
    order = order_for(generator, operator, sampling=False)
    region = generator.org.region_code
    regulator = UserFactory(org=RegulatorOrgFactory(region_code=region, scope_prefix=region[:4]))
    resp = client.get(f"/api/v1/orders/{order.id}", headers=bearer(regulator))
    assert resp.status_code == 200 and resp.get_json()["actions"] == []
