"""An order from funded to closed in a real browser, in Chinese and English (issue 10).

gen1 (Chinese) drafts two manifests of 1 000 kg each for a funded ¥1 500/t × 2 t order and signs
both at pickup; the carrier (Chinese) signs the first by login and sends the driver a one-time
code for the second, which the driver signs on a 390 px wide phone page without a login. op1
(English) receives the first 3 % below what was sent (within the tolerance) and the second 8 %
below, explaining the difference; gen1 confirms it, and the order settles at once: 1 890 kg ×
¥1 500/t = ¥2 835.00 to op1 less the 1 % fee, ¥165.00 refunded to gen1. Each sees its payables
to the fen; finance (English) pays both out and the order closes.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from market import db, ledger
from market.manifests.models import Manifest
from market.notifications.models import EmailMessage
from market.orders.models import Order
from tests.e2e.test_sampling_contract import log_in, user
from tests.escrow_factories import make_order, pay_in_full
from tests.e2e.conftest import confirm

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def draft_manifest(page, order_id: int, carrier_id: int, plate: str) -> str:
    page.goto(f"/orders/{order_id}/manifests/new")
    form = page.get_by_test_id("manifest-form")
    form.locator("select[name=carrier_org_id]").select_option(str(carrier_id))
    form.locator("input[name=vehicle_plate]").fill(plate)
    form.locator("input[name=driver_name]").fill("何师傅")
    form.locator("input[name=driver_phone]").fill("13800138000")
    form.locator("input[name=driver_email]").fill("driver@example.cn")
    form.locator("input[name=planned_pickup_at]").fill(
        (date.today() + timedelta(days=1)).isoformat() + "T09:00")
    form.locator("input[name=quantity_kg]").fill("1000")
    form.locator("input[name=packaging]").fill("200 L 铁桶")
    form.locator("input[name=count]").fill("5")
    page.get_by_test_id("manifest-submit").click()
    page.wait_for_url(re.compile(r".*/manifests/\d+$"))
    return page.get_by_test_id("manifest-number").inner_text()


def manifest_id(number: str) -> int:
    db.session.remove()
    return db.session.scalar(select(Manifest.id).where(Manifest.number.contains(number[-14:])))


def receive(page, mid: int, kg: int, comment: str = "") -> None:
    page.goto(f"/manifests/{mid}")
    form = page.get_by_test_id("receive-form")
    form.get_by_test_id("received-kg").fill(str(kg))
    form.get_by_test_id("refused-kg").fill("0")
    if comment:
        form.get_by_test_id("receive-comment").fill(comment)
    page.get_by_test_id("receive-submit").click()
    confirm(page)
    page.wait_for_load_state()


def test_an_order_from_funded_to_closed(csrf_app, page_for, browser, live_server):
    from market.demo import seed
    seed()
    gen, op, carrier_user = user("gen1"), user("op1"), user("carrier")
    order = pay_in_full(make_order(gen.org, op.org))   # ¥1 500/t × 2 000 kg = ¥3 000.00 held
    order_id, number, carrier_id = order.id, order.number, carrier_user.org_id
    gen_id, op_id = gen.org_id, op.org_id
    assert order.status == "funded"
    db.session.remove()

    # The generator, in Chinese, drafts two manifests and signs both at pickup.
    generator = log_in(page_for, "zh-CN", "gen1")
    generator.goto(f"/orders/{order_id}")
    assert generator.get_by_test_id("next-step-button").get_attribute("data-action") \
        == "create_manifest"
    first = draft_manifest(generator, order_id, carrier_id, "粤B12345")
    second = draft_manifest(generator, order_id, carrier_id, "粤BD12345")
    ids = [manifest_id(n) for n in (first, second)]
    for mid in ids:
        generator.goto(f"/manifests/{mid}")
        generator.get_by_test_id("sign-generator").click()
        generator.wait_for_load_state()
        assert generator.locator("[data-testid=signature][data-part=generator]") \
            .get_attribute("data-signed") == "yes"

    # The carrier signs the first by login and sends the driver a code for the second.
    carrier = log_in(page_for, "zh-CN", "carrier")
    carrier.goto(f"/manifests/{ids[0]}")
    carrier.get_by_test_id("sign-carrier").click()
    carrier.wait_for_load_state()
    assert carrier.get_by_test_id("manifest").get_attribute("data-status") == "shipped"
    carrier.goto(f"/manifests/{ids[1]}")
    carrier.get_by_test_id("send-driver-code").click()
    carrier.wait_for_load_state()
    db.session.remove()
    body = db.session.scalar(select(EmailMessage.body).order_by(EmailMessage.id.desc()).limit(1))
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)

    # The driver, without a login, signs on a phone-sized page.
    phone_ctx = browser.new_context(locale="zh-CN", base_url=live_server,
                                    viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = phone_ctx.new_page()
    second_number = db.session.get(Manifest, ids[1]).number
    phone.goto(f"/driver/manifests/{second_number}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_test_id("driver-sign-form").locator("input[name=code]").fill(code)
    phone.get_by_test_id("driver-sign-submit").click()
    phone.wait_for_load_state()
    assert phone.get_by_test_id("driver-signed").is_visible()
    phone_ctx.close()
    db.session.remove()
    assert {db.session.get(Manifest, mid).status for mid in ids} == {"shipped"}
    assert db.session.get(Order, order_id).status == "in_transfer"

    # The operator, in English, receives: 970 kg (3 % below), then 920 kg (8 % below).
    operator = log_in(page_for, "en", "op1")
    receive(operator, ids[0], 970)
    receive(operator, ids[1], 920, comment="Water evaporated on the way")
    db.session.remove()
    assert db.session.get(Order, order_id).status == "received"   # the discrepancy holds it
    operator.goto(f"/orders/{order_id}")
    assert operator.get_by_test_id("settlement").get_attribute("data-status") == "pending"

    # The generator confirms the discrepancy: the order settles at once.
    generator.goto(f"/manifests/{ids[1]}")
    generator.get_by_test_id("confirm-discrepancy").click()
    generator.wait_for_load_state()
    db.session.remove()
    assert db.session.get(Order, order_id).status == "settled"
    generator.goto(f"/orders/{order_id}")
    section = generator.get_by_test_id("settlement")
    assert section.get_attribute("data-status") == "settled"
    assert generator.get_by_test_id("accepted-kg").inner_text().startswith("1.890")
    assert generator.get_by_test_id("settlement-refunded").inner_text() == "¥165.00"
    disposal = section.locator("[data-testid=settlement-line][data-kind=disposal]")
    assert disposal.get_by_test_id("settlement-amount").inner_text() == "¥2,835.00"
    assert disposal.get_by_test_id("settlement-fee").inner_text() == "¥28.35"
    assert disposal.get_by_test_id("settlement-released").inner_text() == "¥2,835.00"
    assert "结算" in section.inner_text()

    # Payables, to the fen, in each party's language.
    generator.goto("/payables")
    assert generator.get_by_test_id("payable-balance").inner_text() == "¥165.00"
    assert "等待下一批次付款" in generator.get_by_test_id("pending-reasons").inner_text()
    operator.goto("/payables")
    assert operator.get_by_test_id("payable-balance").inner_text() == "¥2,806.65"
    assert operator.locator("[data-testid=pending-reason][data-code=awaiting_payout_batch]") \
        .get_attribute("data-amount") == "280665"

    # Finance, in English, pays both out; the order closes.
    finance = log_in(page_for, "en", "finance")
    for org_id, amount, ref in ((op_id, "2806.65", "CMB-PAY-0001"),
                                (gen_id, "165.00", "CMB-PAY-0002")):
        finance.goto("/finance/payables")
        assert finance.locator(f"[data-testid=owed][data-org-id='{org_id}']").count() == 1
        form = finance.get_by_test_id("record-payout")
        form.locator("input[name=org_id]").fill(str(org_id))
        form.locator("input[name=amount]").fill(amount)
        form.locator("input[name=bank_ref]").fill(ref)
        form.locator("button[type=submit]").click()
        finance.wait_for_load_state()
    assert finance.locator(f"[data-testid=owed][data-org-id='{op_id}']").count() == 0
    finance.goto("/finance/trial-balance")
    assert finance.get_by_test_id("trial-balance").get_attribute("data-total") == "0"

    db.session.remove()
    assert db.session.get(Order, order_id).status == "closed"
    assert ledger.balance(f"escrow:{number}") == 0
    assert ledger.balance(f"payable:{op_id}") == 0 and ledger.balance(f"payable:{gen_id}") == 0
    operator.goto(f"/orders/{order_id}")
    assert operator.get_by_test_id("order").get_attribute("data-status") == "closed"
    for page in (generator, carrier, operator, finance):
        page.context.close()
