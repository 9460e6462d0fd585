"""The order page shows the caller's next step as one primary button: actions[0] of the API."""
from __future__ import annotations

import re

from market import db
from market.orders import lifecycle
from market.orders.models import Order
from tests.api.conftest import bearer
from tests.factories import PASSWORD, RegulatorOrgFactory, UserFactory
from tests.sampling_factories import order_for, render_all
from tests.web.marketplace import as_user


def next_step(client, user, order) -> tuple[str, str] | None:
    """(data-action, href) of the page's primary button, or None when it shows none."""
    as_user(client, user)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    client.post("/logout")
    buttons = re.findall(r'<a class="button primary" href="([^"]*)" data-testid="next-step-button" '
                         r'data-action="([^"]*)"', page)
    assert len(buttons) <= 1
    return (buttons[0][1], buttons[0][0]) if buttons else None


def api_actions(client, user, order) -> list[str]:
    return client.get(f"/api/v1/orders/{order.id}", headers=bearer(user)).get_json()["actions"]


def test_the_primary_button_is_the_first_action_of_the_api(client, generator, operator, admin):
    order = order_for(generator, operator, sampling=False)
    render_all()
    for user in (generator, operator, admin):
        first = api_actions(client, user, order)[0]
        assert next_step(client, user, order)[0] == first
    assert next_step(client, generator, order) == ("sign_contract", f"/orders/{order.id}/contract")
    assert next_step(client, admin, order) == ("cancel", "#cancel-order")

    lifecycle.sign_contract(generator, order.id, PASSWORD)
    lifecycle.sign_contract(operator, order.id, PASSWORD)
    assert api_actions(client, generator, order)[0] == "fund"
    assert next_step(client, generator, order) == ("fund", f"/orders/{order.id}/payment")
    assert next_step(client, operator, order)[0] == api_actions(client, operator, order)[0] == "cancel"


def test_sampling_first_then_no_button_for_a_regulator(client, generator, operator):
    order = order_for(generator, operator, sampling=True)
    assert db.session.get(Order, order.id).status == "sampling"
    assert next_step(client, operator, order) == ("request_sampling", f"/orders/{order.id}/sampling")
    region = generator.org.region_code
    regulator = UserFactory(org=RegulatorOrgFactory(region_code=region, scope_prefix=region[:4]))
    assert next_step(client, regulator, order) is None
