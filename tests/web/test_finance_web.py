"""Finance pages: receipts to confirm, suspense, the ledger browser and the trial balance."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Receipt
from market.ledger.models import Entry
from market.listings.validation import today
from market.orders import lifecycle
from market.uow import transaction
from tests.escrow_factories import make_order
from tests.web.marketplace import as_user, field_error, text

TODAY = today().isoformat()


def entries() -> int:
    return db.session.scalar(select(func.count()).select_from(Entry))


@pytest.fixture
def awaiting(generator, operator):
    order = make_order(generator.org, operator.org)  # ¥3 000
    return order, lifecycle.request_funding(generator, order.id)["reference"]


def form(reference, amount="3000.00", bank_ref="STMT-1"):
    return {"reference": reference, "amount": amount, "received_on": TODAY,
            "payer_name": "深圳华芯", "bank_ref": bank_ref}


def test_finance_confirms_a_receipt_and_the_order_is_funded(client, finance, awaiting):
    order, ref = awaiting
    as_user(client, finance)
    page = client.get("/finance").get_data(as_text=True)
    assert f'data-reference="{ref}"' in page
    resp = client.post("/finance/receipts", data=form(ref), follow_redirects=True)
    assert "the order's funding is complete" in text(resp)
    db.session.refresh(order)
    assert order.status == "funded"
    assert 'data-status="funded"' in client.get("/finance").get_data(as_text=True)


def test_a_typo_or_a_bad_amount_is_shown_on_the_field_and_books_nothing(client, finance,
                                                                        awaiting):
    _order, ref = awaiting
    as_user(client, finance)
    before = entries()
    typo = ref[:-1] + str((int(ref[-1]) + 1) % 10)
    resp = client.post("/finance/receipts", data=form(typo))
    assert resp.status_code == 422 and "check digits" in field_error(resp, "reference")
    for amount in ("12.345", "-5", "abc", "0"):
        resp = client.post("/finance/receipts", data=form(ref, amount=amount))
        assert resp.status_code == 422 and field_error(resp, "amount"), amount
    assert entries() == before


def test_suspense_items_are_matched_or_returned(client, finance, awaiting):
    order, ref = awaiting
    as_user(client, finance)
    client.post("/finance/receipts", data=form("华芯 货款", amount="3000.00", bank_ref="S1"))
    client.post("/finance/receipts", data=form("不明来款", amount="12.34", bank_ref="S2"))
    page = client.get("/finance/suspense").get_data(as_text=True)
    assert page.count('data-testid="suspense-item"') == 2
    first, second = db.session.scalars(select(Receipt).order_by(Receipt.id)).all()
    resp = client.post("/finance/suspense/match", follow_redirects=True,
                       data={"receipt_id": first.id, "reference": ref, "amount": "3000",
                             "idem": "t1"})
    assert "Suspense item updated." in text(resp)
    client.post("/finance/suspense/return",
                data={"receipt_id": second.id, "amount": "12.34", "bank_ref": "RET-9",
                      "idem": "t2"})
    # the same form posted twice (same token) moves the money once
    returned = {"receipt_id": second.id, "amount": "12.34", "bank_ref": "RET-9", "idem": "t2"}
    client.post("/finance/suspense/return", data=returned)
    after_first = (entries(), ledger.balance("suspense:bank"), ledger.balance("clearing:bank"),
                   db.session.scalar(select(func.count()).select_from(Receipt)))
    resp = client.post("/finance/suspense/return", data=returned)
    assert resp.status_code == 302
    assert (entries(), ledger.balance("suspense:bank"), ledger.balance("clearing:bank"),
            db.session.scalar(select(func.count()).select_from(Receipt))) == after_first
    db.session.refresh(order)
    assert order.status == "funded"
    assert ledger.balance("suspense:bank") == 0
    assert ledger.balance("clearing:bank") == 300_000
    assert 'data-testid="suspense-item"' not in client.get("/finance/suspense").get_data(True)


def test_ledger_browser_and_trial_balance(client, finance, awaiting):
    order, ref = awaiting
    lifecycle.confirm_receipt(finance, reference=ref, amount_fen=300_000,
                             received_on=today(), payer_name="x", bank_ref="L1")
    as_user(client, finance)
    page = client.get("/finance/ledger?prefix=escrow:").get_data(as_text=True)
    assert f'data-code="escrow:{order.number}"' in page and "clearing:bank" not in page
    page = client.get(f"/finance/ledger?account=escrow:{order.number}").get_data(as_text=True)
    assert page.count('data-testid="posting"') == 1 and "receipt:bank:L1" in page
    bad = client.get("/finance/ledger?account=nonsense")
    assert bad.status_code == 200 and 'role="alert"' in bad.get_data(as_text=True)
    tb = client.get("/finance/trial-balance").get_data(as_text=True)
    assert 'data-total="0"' in tb
    dash = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="stat-awaiting"' in dash


def test_finance_pages_are_for_platform_staff(client, generator, operator, admin):
    as_user(client, generator)
    for url in ("/finance", "/finance/suspense", "/finance/ledger", "/finance/trial-balance",
                "/disputes"):
        assert client.get(url).status_code == 403, url
    assert client.post("/finance/receipts", data=form("x")).status_code == 403
    client.post("/logout")
    as_user(client, admin)  # admins read; only finance books
    assert client.get("/finance/trial-balance").status_code == 200
    resp = client.post("/finance/receipts", data=form("HX2026000001"))
    assert resp.status_code == 403


CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("lang, expected", [
    ("en", {"escrow": "Escrow — order {number}", "payable": "Payable — {org}",
            "clearing:bank": "Bank clearing", "revenue:fees": "Platform fee revenue",
            "expense:gateway_fees": "Payment gateway fees",
            "suspense:stripe": "Suspense — card payments"}),
    ("zh-CN", {"escrow": "托管 — 订单 {number}", "payable": "应付 — {org}",
               "clearing:bank": "银行清算", "revenue:fees": "平台服务费收入",
               "expense:gateway_fees": "支付通道手续费", "suspense:stripe": "待查款项 — 银行卡支付"}),
])
def test_ledger_pages_name_accounts_in_the_page_language(client, finance, operator, lang,
                                                         expected):
    order = make_order(None, operator.org)
    with transaction():
        ledger.post([("clearing:bank", 10_000), (f"escrow:{order.number}", -10_000)], "t:1", "in")
        ledger.post([(f"escrow:{order.number}", 9_000), (f"payable:{operator.org_id}", -8_000),
                     ("revenue:fees", -1_000)], "t:2", "release")
        ledger.post([("expense:gateway_fees", 100), ("suspense:stripe", -100)], "t:3", "fee")
    want = {"escrow:" + order.number: expected["escrow"].format(number=order.number),
            f"payable:{operator.org_id}": expected["payable"].format(org=operator.org.name),
            **{code: name for code, name in expected.items() if ":" in code}}
    as_user(client, finance, lang)
    for url in ("/finance/ledger", "/finance/trial-balance"):
        page = client.get(url).get_data(as_text=True)
        rows = dict(re.findall(r'<tr data-testid="account" data-code="([^"]+)">.*?'
                               r'data-testid="account-name">([^<]+)</a>', page, re.S))
        for code, name in want.items():
            assert rows[code] == name, (url, code)
            assert f"<code class=\"muted small\">{code}</code>" in page  # the code stays, small
        if lang == "en":  # only the organisation's own name is Chinese
            assert not CJK.search(" ".join(rows.values()).replace(operator.org.name, ""))
    page = client.get(f"/finance/ledger?account=payable:{operator.org_id}").get_data(as_text=True)
    assert re.search(r'data-testid="account-title">' + re.escape(want[f"payable:{operator.org_id}"]),
                     page)
