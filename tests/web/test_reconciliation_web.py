"""The reconciliation desk: only finance and admins reach it; upload, match, resolve, close and
sign off through the pages, in both languages."""
from __future__ import annotations

import io

import pytest
from flask import current_app
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.reconciliation.models import ReconException, StatementImport
from tests.reconciliation_factories import FORMATS, Move
from tests.services.test_reconciliation import month  # noqa: F401  (fixture)
from tests.web.marketplace import as_user, text

OTHER_ROLES = ["generator", "operator", "carrier", "lab", "regulator"]


def recon_rules():
    return [r for r in current_app.url_map.iter_rules()
            if r.endpoint.startswith("reconciliation.")]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_reconciliation_page_refuses_every_other_role(client, role, request):
    as_user(client, request.getfixturevalue(role))
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    rules = recon_rules()
    assert len(rules) >= 7
    for rule in rules:
        method = "GET" if "GET" in rule.methods else "POST"
        resp = client.open(rule.rule, method=method, data={"exception_id": "1", "day": "2026-01-01",
                                                           "how": "adjustment"})
        assert resp.status_code == 403, (role, rule.rule, resp.status_code)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_finance_and_admins_reach_the_desk(client, role, request):
    as_user(client, request.getfixturevalue(role))
    assert client.get("/finance/reconciliation").status_code == 200


@pytest.mark.parametrize("lang,word", [("en", "Exceptions"), ("zh-CN", "异常")])
def test_the_desk_upload_match_resolve_close(client, finance, month, lang, word):  # noqa: F811
    as_user(client, finance, lang)
    data = FORMATS["csv"](month["moves"])
    resp = client.post("/finance/reconciliation/upload",
                       data={"file": (io.BytesIO(data), "nov.csv")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert resp.status_code == 200 and db.session.scalar(
        select(func.count()).select_from(StatementImport)) == 1
    again = client.post("/finance/reconciliation/upload",
                        data={"file": (io.BytesIO(data), "nov.csv")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 1
    assert ("already imported" if lang == "en" else "已导入") in text(again)
    page = client.post("/finance/reconciliation/match", follow_redirects=True)
    assert word in text(page)
    assert page.get_data(as_text=True).count('data-testid="recon-exception"') == 3
    assert 'data-testid="fig-open">3<' in page.get_data(as_text=True)
    fee = db.session.scalar(select(ReconException).where(ReconException.amount_fen == -1_250))
    client.post("/finance/reconciliation/resolve", data={
        "exception_id": str(fee.id), "how": "adjustment", "account": "expense:gateway_fees",
        "reason": "bank fee"})
    db.session.refresh(fee)
    assert fee.status == "resolved"
    # a refusal changes nothing and says why
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    bad = client.post("/finance/reconciliation/close", data={"day": "x"}, follow_redirects=True)
    assert "day" in text(bad)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    day = month["moves"][-1].day.isoformat()
    page = client.post("/finance/reconciliation/close", data={"day": day},
                       follow_redirects=True)
    assert 'data-status="different"' in page.get_data(as_text=True)


@pytest.mark.parametrize("name", ["trial_balance", "fee_revenue", "escrow_by_age", "payables",
                                  "reconciliation"])
def test_reports_export_as_csv_and_xlsx(client, finance, generator, name):
    as_user(client, finance)
    for fmt, magic in (("csv", b"\xef\xbb\xbf"), ("xlsx", b"PK")):
        resp = client.get(f"/finance/reconciliation/report?name={name}&format={fmt}")
        assert resp.status_code == 200 and resp.data.startswith(magic)
    assert client.get("/finance/reconciliation/report?name=x&format=csv").status_code == 404
    as_user(client, generator)
    assert client.get(f"/finance/reconciliation/report?name={name}&format=csv").status_code == 403
