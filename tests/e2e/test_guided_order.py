"""The order guides its parties, in a real browser (issue 14's acceptance).

gen1 (深圳市华芯电子制造有限公司, English, on a 390 px phone) accepts op1's quote for 2 t of waste
mineral oil at ¥1,500/t: the confirmation shows total, quantity and operator; "cancel" changes
nothing, "confirm" awards. Then, at every state from the award to closed, the primary button on the
order page is the caller's first allowed action (market/orders/actions.py, what the API returns),
and following it is how the order moves on: both sign the contract, gen1 pays (finance books the
transfer), gen1 drafts and signs the manifest, the carrier ships it, op1 (Chinese, desktop)
receives it, finance pays both parties out and the order closes.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import func, select

from market import db
from market.demo import DEMO_PASSWORD, seed
from market.listings.models import Quote
from market.listings.quotes import submit_quote
from market.listings.services import create_request
from market.listings.validation import today
from market.manifests.models import Manifest
from market.orders import actions
from market.orders.models import Order
from tests.e2e.conftest import confirm
from tests.e2e.test_sampling_contract import log_in, run_documents_jobs, user
from tests.e2e.test_transfer import receive

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def first_allowed(order_id: int, org_id: int) -> str | None:
    """The caller's next step as the API computes it."""
    db.session.remove()
    order = db.session.get(Order, order_id)
    role = {order.generator_id: "generator", order.operator_id: "operator"}.get(org_id)
    allowed = actions.allowed(order.status, role, actions.facts_for(order))
    return allowed[0] if allowed else None


def status(order_id: int) -> str:
    db.session.remove()
    return db.session.get(Order, order_id).status


def next_step(page, order_id: int, org_id: int, expected: str) -> None:
    """On the order page the primary button is the API's first action; follow it."""
    page.goto(f"/orders/{order_id}")
    assert first_allowed(order_id, org_id) == expected
    button = page.get_by_test_id("next-step-button")
    assert button.count() == 1 and button.get_attribute("data-action") == expected
    assert "primary" in button.get_attribute("class")
    button.click()
    page.wait_for_load_state()


def sign_contract(page, order_id: int) -> None:
    page.wait_for_url(f"**/orders/{order_id}/contract")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_test_id("sign-button").click()
    confirm(page)
    page.wait_for_url(f"**/orders/{order_id}/contract")


def book_receipt(finance, reference: str, amount: str) -> None:
    finance.goto("/finance")
    form = finance.get_by_test_id("confirm-receipt")
    form.locator("input[name=reference]").fill(reference)
    form.locator("input[name=amount]").fill(amount)
    form.locator("input[name=received_on]").fill(today().isoformat())
    form.locator("input[name=payer_name]").fill("深圳市华芯电子制造有限公司")
    form.locator("input[name=bank_ref]").fill("CMB-20261206-0001")
    form.locator("button[type=submit]").click()
    finance.wait_for_load_state()


def test_accepting_a_quote_asks_first_then_the_next_step_button_leads_to_closed(csrf_app, page_for):
    seed()
    gen, op, carrier = user("gen1"), user("op1"), user("carrier")
    gen_id, op_id, carrier_org = gen.org_id, op.org_id, carrier.org_id
    req = create_request(gen, category="HW08", waste_code="900-214-08", description="废矿物油，200 L 铁桶装",
                         form="liquid", packaging="200 L 铁桶", hazards=["T", "I"], quantity_kg=2_000,
                         region_code=gen.org.region_code, address=gen.org.address,
                         window_start=today() + timedelta(days=7), window_end=today() + timedelta(days=37))
    quote = submit_quote(op, req.id, unit_price_fen_per_t=150_000, transport_fee_fen=0,
                         valid_until=today() + timedelta(days=14), subject_to_sampling=False, note="")
    req_id, quote_id, op_name = req.id, quote.id, op.org.name
    db.session.remove()

    # The confirmation before accepting: what is agreed; cancelling changes nothing.
    generator = log_in(page_for, "en", "gen1")
    generator.set_viewport_size({"width": 390, "height": 844})
    generator.goto(f"/requests/{req_id}")
    generator.get_by_test_id("accept-quote").click()
    dialog = generator.get_by_test_id("confirm-dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    assert "¥3,000.00" in text and "2.000 t" in text and op_name in text, text
    found = Axe().run(generator).response["violations"]
    assert not [v["id"] for v in found if v.get("impact") in ("serious", "critical")]
    dialog.get_by_test_id("confirm-no").click()
    assert dialog.is_hidden()
    db.session.remove()
    assert db.session.get(Quote, quote_id).status == "submitted"
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    generator.get_by_test_id("accept-quote").click()
    confirm(generator)
    generator.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_id = int(generator.url.rsplit("/", 1)[1])
    assert status(order_id) == "contract_pending"
    run_documents_jobs()  # the contract PDF

    # contract_pending: each party's next step is to sign.
    next_step(generator, order_id, gen_id, "sign_contract")
    sign_contract(generator, order_id)
    operator = log_in(page_for, "zh-CN", "op1")
    next_step(operator, order_id, op_id, "sign_contract")
    sign_contract(operator, order_id)
    assert status(order_id) == "contract_signed"

    # contract_signed: the generator pays into escrow; finance books the transfer.
    next_step(generator, order_id, gen_id, "fund")
    generator.wait_for_url(f"**/orders/{order_id}/payment")
    generator.get_by_test_id("start-funding").locator("button").click()
    generator.wait_for_load_state()
    assert generator.get_by_test_id("amount-due").inner_text() == "¥3,000.00"
    reference = generator.get_by_test_id("reference").inner_text()
    finance = log_in(page_for, "en", "finance")
    book_receipt(finance, reference, "3000.00")
    assert status(order_id) == "funded"

    # funded: the generator drafts the manifest and signs it at pickup; the carrier ships it.
    next_step(generator, order_id, gen_id, "create_manifest")
    generator.wait_for_url(f"**/orders/{order_id}/manifests/new")
    form = generator.get_by_test_id("manifest-form")
    form.locator("select[name=carrier_org_id]").select_option(str(carrier_org))
    form.locator("input[name=vehicle_plate]").fill("粤B12345")
    form.locator("input[name=driver_name]").fill("何师傅")
    form.locator("input[name=driver_phone]").fill("13800138000")
    form.locator("input[name=driver_email]").fill("driver@example.cn")
    form.locator("input[name=planned_pickup_at]").fill(
        (date.today() + timedelta(days=1)).isoformat() + "T09:00")
    form.locator("input[name=quantity_kg]").fill("2000")
    form.locator("input[name=packaging]").fill("200 L 铁桶")
    form.locator("input[name=count]").fill("10")
    generator.get_by_test_id("manifest-submit").click()
    generator.wait_for_url(re.compile(r".*/manifests/\d+$"))
    manifest_id = int(generator.url.rsplit("/", 1)[1])
    generator.get_by_test_id("sign-generator").click()
    generator.wait_for_load_state()
    carrier_page = log_in(page_for, "zh-CN", "carrier")
    carrier_page.goto(f"/manifests/{manifest_id}")
    carrier_page.get_by_test_id("sign-carrier").click()
    carrier_page.wait_for_load_state()
    db.session.remove()
    assert db.session.get(Manifest, manifest_id).status == "shipped"
    assert status(order_id) == "in_transfer"

    # in_transfer: the operator's next step is to receive the waste.
    next_step(operator, order_id, op_id, "receive_manifest")
    assert operator.url.endswith("#order-manifests")
    receive(operator, manifest_id, 2000)
    assert status(order_id) == "settled"

    # settled, then closed once finance pays both out: each party is asked to review.
    for page, org_id in ((generator, gen_id), (operator, op_id)):
        expected = first_allowed(order_id, org_id)
        assert expected in ("review", "upload_certificate")
        next_step(page, order_id, org_id, expected)
    finance.goto("/finance/payables")
    owed = [(int(row.get_attribute("data-org-id")), int(row.get_attribute("data-amount")))
            for row in finance.locator("[data-testid=owed]").all()]
    for org_id, fen in owed:
        if org_id not in (gen_id, op_id):
            continue
        finance.goto("/finance/payables")
        form = finance.get_by_test_id("record-payout")
        form.locator("input[name=org_id]").fill(str(org_id))
        form.locator("input[name=amount]").fill(f"{fen // 100}.{fen % 100:02d}")
        form.locator("input[name=bank_ref]").fill(f"CMB-PAY-{org_id}")
        form.locator("button[type=submit]").click()
        finance.wait_for_load_state()
    assert status(order_id) == "closed"
    for page, org_id in ((generator, gen_id), (operator, op_id)):
        page.goto(f"/orders/{order_id}")
        assert page.get_by_test_id("order").get_attribute("data-status") == "closed"
        expected = first_allowed(order_id, org_id)
        button = page.get_by_test_id("next-step-button")
        if expected is None:
            assert button.count() == 0
        else:
            assert button.get_attribute("data-action") == expected == "review"
    for page in (generator, operator, finance, carrier_page):
        page.context.close()
