"""Payout pages: the payee keeps its bank account, an admin verifies it, finance builds a batch,
downloads the bank file and records a return; only finance and admins reach the batch pages."""
from __future__ import annotations

import csv
import io
import re

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import db, ledger
from market.audit.models import AuditEvent
from market.orders import settling
from market.settlement import bank_accounts
from market.settlement.payout_models import BankAccount, PayoutBatch, PayoutBatchLine
from tests.factories import UserFactory
from tests.payout_factories import owe, verified_account
from tests.web.marketplace import as_user, field_error, text

OTHER_ROLES = ["generator", "operator", "carrier", "lab", "regulator"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def payout_rules():
    return [r for r in current_app.url_map.iter_rules() if r.endpoint.startswith("payouts.")
            and r.rule.startswith("/finance/")]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_payout_batch_page_refuses_every_other_role(client, role, request, operator):
    owe(operator.org_id, 200_000)
    as_user(client, request.getfixturevalue(role))
    before = (count(AuditEvent), count(PayoutBatch), ledger.balance(f"payable:{operator.org_id}"))
    rules = payout_rules()
    assert len(rules) >= 4
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        resp = client.open(rule.rule + "?id=1", method=method,
                           data={"line_id": "1", "reason": "x", "idem": "t"})
        assert resp.status_code == 403, (role, rule.rule, resp.status_code)
    assert (count(AuditEvent), count(PayoutBatch),
            ledger.balance(f"payable:{operator.org_id}")) == before


def test_admins_read_the_batches_but_only_finance_builds(client, admin, operator):
    owe(operator.org_id, 200_000)
    verified_account(operator, admin)
    as_user(client, admin)
    page = client.get("/finance/payout-batches")
    assert page.status_code == 200 and 'data-testid="build-batch"' not in page.get_data(True)
    assert client.post("/finance/payout-batches", data={"idem": "t1"}).status_code == 403
    assert count(PayoutBatch) == 0


@pytest.mark.parametrize("lang,words", [("en", ("Bank account", "only digits", "Verify")),
                                        ("zh-CN", ("银行账户", "只能包含数字", "核验"))])
def test_the_payee_sets_its_account_and_an_admin_verifies_it(client, operator, admin, lang,
                                                             words):
    as_user(client, operator, lang)
    page = client.get("/bank-account")
    assert page.status_code == 200 and words[0] in text(page)
    assert 'data-testid="bank-account-none"' in page.get_data(True)
    bad = client.post("/bank-account", data={"account_name": "某某环保", "bank_name": "中国银行",
                                             "account_number": "6222 O200"})
    assert bad.status_code == 422 and words[1] in field_error(bad, "account_number")
    assert count(BankAccount) == 0
    ok = client.post("/bank-account", data={"account_name": "某某环保", "bank_name": "中国银行",
                                            "account_number": "6222 0200 1234 5678"},
                     follow_redirects=True)
    assert ok.status_code == 200
    body = ok.get_data(True)
    assert "•••• 5678" in body and "6222020012345678" not in body
    assert 'data-status="unverified"' in body

    client.get("/logout")
    as_user(client, admin, lang)
    dashboard = client.get("/dashboard", follow_redirects=True).get_data(True)
    assert re.search(r'data-testid="pending-bank-accounts">\s*<span class="stat-value">1<',
                     dashboard)
    review = client.get("/admin/bank-accounts")
    assert review.status_code == 200 and words[2] in text(review)
    account = bank_accounts.account_of(operator.org_id)
    assert f'data-account-id="{account.id}"' in review.get_data(True)
    client.post(f"/admin/bank-accounts/{account.id}/verify")
    db.session.refresh(account)
    assert account.status == "verified"


def test_a_member_who_is_not_the_org_admin_cannot_change_the_account(client, operator):
    member = UserFactory(org=operator.org, is_org_admin=False)
    as_user(client, member)
    assert 'data-testid="bank-account-save"' not in client.get("/bank-account").get_data(True)
    resp = client.post("/bank-account", data={"account_name": "x", "bank_name": "y",
                                              "account_number": "62220200123456"})
    assert resp.status_code == 403 and count(BankAccount) == 0


def test_an_admin_rejects_with_a_reason_the_payee_then_reads(client, operator, admin):
    account = bank_accounts.set_account(operator, "某某环保", "中国银行", "62220200123456")
    as_user(client, admin)
    client.post(f"/admin/bank-accounts/{account.id}/reject", data={"reason": ""})
    db.session.refresh(account)
    assert account.status == "unverified"
    client.post(f"/admin/bank-accounts/{account.id}/reject", data={"reason": "户名不符"})
    db.session.refresh(account)
    assert account.status == "rejected"
    client.get("/logout")
    owe(operator.org_id, 50_000)
    as_user(client, operator)
    page = client.get("/payables").get_data(True)
    assert 'data-code="no_verified_account"' in page and "户名不符" in page


@pytest.mark.parametrize("lang,word", [("en", "Payout batch"), ("zh-CN", "付款批次")])
def test_finance_builds_a_batch_downloads_the_file_and_records_a_return(
        client, finance, operator, generator, admin, lang, word):
    current_app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    owe(operator.org_id, 200_000)
    owe(generator.org_id, 5_000)
    verified_account(operator, admin)
    as_user(client, finance, lang)
    queue = client.get("/finance/payout-batches")
    assert queue.status_code == 200 and word in text(queue)
    body = queue.get_data(True)
    assert f'data-org-id="{operator.org_id}" data-state="due"' in body
    assert f'data-org-id="{generator.org_id}" data-state="below_minimum"' in body
    dashboard = client.get("/dashboard", follow_redirects=True).get_data(True)
    assert 'data-testid="payout-queue-summary"' in dashboard and "¥2,000.00" in dashboard

    built = client.post("/finance/payout-batches", data={"idem": "tok-1"})
    assert built.status_code == 302
    # a double submission of the same form builds nothing more
    assert client.post("/finance/payout-batches", data={"idem": "tok-1"}).status_code == 302
    assert count(PayoutBatch) == 1
    batch = db.session.scalar(select(PayoutBatch))
    page = client.get(built.headers["Location"])
    assert page.status_code == 200 and batch.lines[0].reference in page.get_data(True)
    download = client.get(f"/finance/payout-batch/file?id={batch.id}")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(True))))
    assert [(r["line_reference"], r["amount"]) for r in rows] == \
        [(batch.lines[0].reference, "2000.00")]
    # nothing left to pay: a second batch is refused and changes nothing
    again = client.post("/finance/payout-batches", data={"idem": "tok-2"})
    assert again.status_code == 409 and count(PayoutBatch) == 1

    line = batch.lines[0]
    bad = client.post("/finance/payout-batch/returned", data={"line_id": str(line.id),
                                                             "reason": ""})
    assert bad.status_code == 302 and db.session.get(PayoutBatchLine, line.id).status == "sent"
    client.post("/finance/payout-batch/returned", data={"line_id": str(line.id),
                                                       "reason": "账户已销户"})
    db.session.refresh(line)
    assert line.status == "returned"
    assert ledger.balance(f"payable:{operator.org_id}") == 200_000
    assert client.get("/finance/payout-batch?id=999999").status_code == 404
    assert client.get("/finance/payout-batch?id=abc").status_code in (400, 404, 422)


def test_the_payee_sees_why_it_is_not_paid_and_where_to_fix_it(client, operator, finance,
                                                                admin):
    current_app.config["PAYOUT_MINIMUM_FEN"] = 10_000
    owe(operator.org_id, 200_000)
    as_user(client, operator, "zh-CN")
    page = client.get("/payables")
    assert 'data-code="no_verified_account"' in page.get_data(True)
    assert "银行账户" in text(page) and 'href="/bank-account"' in page.get_data(True)
    verified_account(operator, admin)
    batch = settling.build_payout_batch(finance, "k")
    page = client.get("/payables")
    assert 'data-code="in_batch"' in page.get_data(True)
    assert f"付款批次 {batch.id}" in text(page)
