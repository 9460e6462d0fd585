"""Settlement on the web: the order page's settlement section, the certificate form, payables,
and finance recording a payout that closes the order."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Payout
from market.settlement import services
from tests.escrow_factories import PDF
from tests.fixtures import login
from tests.settlement_factories import received_order


def test_order_page_shows_the_settlement_and_the_certificate_form(app, client, generator,
                                                                   operator, finance):
    app.config["SETTLEMENT_RETENTION_BPS"] = 1_000
    try:
        order = received_order(generator.org, operator.org, weights=((2_000, 1_900),),
                               finance=finance)
        services.settle(order.id)
    finally:
        app.config["SETTLEMENT_RETENTION_BPS"] = 0
    login(client, operator)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-testid="settlement" data-status="settled"' in page
    assert "¥2,850.00" in page and "¥28.50" in page   # the disposal line and its fee
    assert 'data-testid="certificate-form"' in page
    resp = client.post(f"/orders/{order.id}/certificate",
                       data={"certificate": (io.BytesIO(b"not a pdf"), "x.txt")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and ledger.balance(f"escrow:{order.number}") == 28_500
    resp = client.post(f"/orders/{order.id}/certificate",
                       data={"certificate": (io.BytesIO(PDF), "处置证明.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302 and ledger.balance(f"escrow:{order.number}") == 0
    page = client.get("/payables").get_data(as_text=True)
    assert 'data-code="no_verified_account"' in page and 'data-kind="release"' in page


def test_finance_records_a_payout_and_the_order_closes(client, generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance)
    services.settle(order.id)   # all 2 t accepted: nothing refunded
    login(client, finance)
    page = client.get("/finance/payables").get_data(as_text=True)
    assert f'data-org-id="{operator.org_id}" data-amount="297000"' in page
    resp = client.post("/finance/payables", data={"org_id": operator.org_id, "amount": "2970.01",
                                                  "bank_ref": "W1", "idem": "t1"})
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Payout)) == 0
    resp = client.post("/finance/payables", data={"org_id": operator.org_id, "amount": "2970.00",
                                                  "bank_ref": "W1", "idem": "t2"})
    assert resp.status_code == 302
    db.session.refresh(order)
    assert order.status == "closed"
