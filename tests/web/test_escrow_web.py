"""The payment page for payer, payee and regulator; disputes and cancellation through the forms."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from market import db, ledger
from market.escrow import services
from market.escrow.dispute_models import Dispute
from market.ledger.models import Entry
from market.orders import lifecycle
from tests.escrow_factories import PDF, make_order, pay_in_full, set_status
from tests.web.marketplace import as_user, text


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry))


def test_the_payer_starts_funding_and_sees_how_to_pay(client, generator, operator):
    order = make_order(generator.org, operator.org, transport_fen=40_000)
    as_user(client, generator)
    page = client.get(f"/orders/{order.id}/payment")
    assert page.status_code == 200 and 'data-testid="start-funding"' in page.get_data(as_text=True)
    resp = client.post(f"/orders/{order.id}/funding")
    assert resp.status_code == 302
    page = client.get(f"/orders/{order.id}/payment").get_data(as_text=True)
    assert 'data-testid="bank-instructions"' in page
    assert "¥3,400.00" in page and order.number in page
    db.session.refresh(order)
    assert order.status == "funding"


def test_the_payee_and_a_regulator_see_the_money_but_cannot_pay(client, generator, operator,
                                                                  regulator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    as_user(client, operator)
    page = client.get(f"/orders/{order.id}/payment")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="bank-instructions"' not in body
    assert 'data-testid="escrow-held">¥3,000.00' in body
    client.post("/logout")
    as_user(client, regulator)  # the generator is in Shenzhen (4403)
    page = client.get(f"/orders/{order.id}/payment")
    assert page.status_code == 200 and "Read-only view for oversight." in text(page)
    assert client.post(f"/orders/{order.id}/funding").status_code == 403


def test_refusals_are_shown_and_post_nothing(client, generator, operator):
    order = make_order(generator.org, operator.org, status="contract_pending")
    as_user(client, generator)
    before = entries()
    resp = client.post(f"/orders/{order.id}/funding", follow_redirects=True)
    assert "is not awaiting funding" in text(resp)
    client.post("/logout")
    as_user(client, operator)
    signed = make_order(generator.org, operator.org)
    resp = client.post(f"/orders/{signed.id}/funding", follow_redirects=True)
    assert "nothing to pay" in text(resp)
    assert entries() == before


def test_dispute_opened_by_form_and_resolved_by_an_admin(client, generator, operator, admin,
                                                         finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org), finance), "received")
    as_user(client, generator)
    resp = client.post(f"/orders/{order.id}/disputes", content_type="multipart/form-data",
                       data={"reason": "到货少了一桶", "evidence": [(io.BytesIO(PDF), "单据.pdf")]})
    assert resp.status_code == 302
    dispute = db.session.scalar(select(Dispute).where(Dispute.order_id == order.id))
    page = client.get(f"/disputes/{dispute.id}")
    assert page.status_code == 200 and 'data-testid="resolve-dispute"' not in page.get_data(True)
    zh = client.get(f"/disputes/{dispute.id}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert 'data-testid="dispute-status">处理中<' in zh.get_data(True)  # not 报价中, a request's
    evidence = client.get(f"/disputes/{dispute.id}/evidence/{dispute.evidence[0].id}")
    assert evidence.status_code == 200 and evidence.data == PDF
    # a party cannot resolve its own dispute
    resp = client.post(f"/disputes/{dispute.id}/resolve",
                       data={f"share_{generator.org_id}": "300000"}, follow_redirects=True)
    assert "Only platform administrators" in text(resp) and dispute.status == "open"
    client.post("/logout")
    as_user(client, admin)
    resp = client.post(f"/disputes/{dispute.id}/resolve", follow_redirects=True,
                       data={f"share_{generator.org_id}": "100000",
                             f"share_{operator.org_id}": "100000", "note": "部分"})
    assert "must add up to" in text(resp)
    resp = client.post(f"/disputes/{dispute.id}/resolve",
                       data={f"share_{generator.org_id}": "100000",
                             f"share_{operator.org_id}": "200000", "note": "按实收结算"})
    assert resp.status_code == 302
    db.session.refresh(dispute)
    assert dispute.status == "resolved"
    assert ledger.balance(f"escrow:{order.number}") == 0
    assert ledger.balance(f"payable:{operator.org_id}") == 198_000
    assert 'data-testid="decision"' in client.get(f"/disputes/{dispute.id}").get_data(True)
    assert client.get("/disputes").status_code == 200


def test_cancel_by_agreement_through_the_page(client, generator, operator, finance):
    order = pay_in_full(make_order(generator.org, operator.org), finance)
    as_user(client, generator)
    assert 'data-testid="propose-cancellation"' in client.get(
        f"/orders/{order.id}/payment").get_data(True)
    client.post(f"/orders/{order.id}/cancellation", data={"reason": "项目取消"})
    client.post("/logout")
    as_user(client, operator)
    page = client.get(f"/orders/{order.id}/payment").get_data(True)
    assert 'data-testid="cancellation-proposal"' in page
    resp = client.post(f"/orders/{order.id}/cancellation/answer", data={"decision": "agree"},
                       follow_redirects=True)
    assert "refunded in full" in text(resp)
    db.session.refresh(order)
    assert order.status == "cancelled" and ledger.balance(f"escrow:{order.number}") == 0


def test_the_money_overview_of_a_payee(client, generator, operator, finance):
    order = set_status(pay_in_full(make_order(generator.org, operator.org, transport_fen=40_000),
                                   finance), "received")
    services.release(finance, order.id, order.line("disposal").id, 300_000, key="web-rel")
    as_user(client, operator)
    page = client.get("/money").get_data(as_text=True)
    assert 'data-testid="payable">¥2,970.00' in page      # 3 000 less the 1 % fee
    assert 'data-testid="escrowed">¥400.00' in page       # the transport line, still held
    assert 'data-testid="released">¥2,970.00' in page


def test_with_the_stripe_gateway_the_payer_gets_a_card_form(app, client, generator, operator):
    from market.escrow import funding
    from market.escrow.models import Payment
    from market.uow import transaction
    order = make_order(generator.org, operator.org)
    lifecycle.start_funding(order.id)
    req = funding.requests_of(order.id)[0]
    with transaction():  # as if request_funding had created the PaymentIntent
        db.session.add(Payment(funding_request_id=req.id, gateway="stripe", external_id="pi_123",
                               client_secret="pi_123_secret_abc", amount_fen=req.amount_fen))
    saved = app.config["PAYMENT_GATEWAY"]
    app.config["PAYMENT_GATEWAY"] = "stripe"
    try:
        as_user(client, generator)
        page = client.get(f"/orders/{order.id}/payment").get_data(as_text=True)
    finally:
        app.config["PAYMENT_GATEWAY"] = saved
    assert 'data-client-secret="pi_123_secret_abc"' in page
    assert 'data-testid="bank-instructions"' not in page
