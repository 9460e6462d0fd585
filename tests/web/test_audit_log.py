"""The admin audit log: paged (keyset), filtered, with names instead of ids and a readable summary
of each change in the page language (statuses translated, money formatted), not raw JSON."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.audit.services import record
from market.uow import transaction
from tests.factories import OrganisationFactory, UserFactory
from tests.web.marketplace import as_user, text


def rows(resp) -> list[str]:
    """The text of each row of the audit table."""
    html = resp.get_data(as_text=True)
    found = re.findall(r'<tr data-testid="audit-row" data-id="(\d+)">(.*?)</tr>', html, re.S)
    return [(int(i), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()) for i, body in found]


def link(resp, testid: str) -> str | None:
    m = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', resp.get_data(as_text=True))
    return m.group(1).replace("&amp;", "&") if m else None


@pytest.fixture
def event(operator):
    payee = OrganisationFactory(name="绿源环保处置有限公司", types=["operator"])
    with transaction():
        e = record("order.status_changed", object_type="trade_order", object_id="7",
                   changes={"status": ["funded", "in_transfer"], "amount_fen": 123_456,
                            "payee_org_id": payee.id, "received_kg": 12_500,
                            "valid_to": "2026-12-06"}, actor=operator)
    return e, payee


@pytest.mark.parametrize("lang, expected", [
    ("en", ["Status: funded → in transfer", "Amount: ¥1,234.56", "Received: 12,500 kg",
            "Valid to: 6 Dec 2026"]),
    ("zh-CN", ["状态: 已托管付款 → 转移中", "金额: ¥1,234.56", "实收: 12,500 kg",
               "有效期至: 2026-12-06"]),
])
def test_an_entry_shows_names_and_a_readable_summary(client, admin, operator, event, lang,
                                                     expected):
    e, payee = event
    as_user(client, admin, lang)
    resp = client.get("/admin/audit?object_type=trade_order&object_id=7")
    assert resp.status_code == 200
    [(row_id, row)] = rows(resp)
    assert row_id == e.id
    for piece in expected:
        assert piece in row, (piece, row)
    assert operator.name in row and operator.org.name in row and payee.name in row
    assert "{" not in row and '"status"' not in resp.get_data(as_text=True)  # no raw JSON


def test_pages_of_fifty_walk_back_and_forth_without_gaps(client, admin, operator):
    with transaction():
        for i in range(120):
            record("test.paging", object_type="thing", object_id=str(i), actor=operator)
    as_user(client, admin)
    first = client.get("/admin/audit?action=test.")
    seen = [i for i, _row in rows(first)]
    assert len(seen) == 50 and link(first, "audit-newer") is None
    second = client.get(link(first, "audit-older"))
    third = client.get(link(second, "audit-older"))
    seen += [i for i, _row in rows(second)] + [i for i, _row in rows(third)]
    assert len(seen) == 120 == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert link(third, "audit-older") is None
    assert "action=test." in link(second, "audit-older")  # the filter goes along
    back = client.get(link(third, "audit-newer"))
    assert [i for i, _row in rows(back)] == [i for i, _row in rows(second)]


def test_filters_by_actor_organisation_object_action_and_date(client, admin, operator, event):
    other = UserFactory(org=OrganisationFactory(name="另一家产废单位", types=["generator"]))
    with transaction():
        record("order.created", object_type="trade_order", object_id="8", actor=other)
    as_user(client, admin)

    def ids(query: str) -> set[int]:
        resp = client.get("/admin/audit?" + query)
        assert resp.status_code == 200, query
        return {i for i, _row in rows(resp)}

    mine = {event[0].id}
    assert ids(f"actor={operator.id}&object_type=trade_order") == mine
    assert ids("organisation=" + operator.org.name[2:6] + "&object_type=trade_order") == mine
    assert ids(f"organisation={other.org_id}") == ids(f"actor={other.id}") != set()
    assert ids("object_type=trade_order&object_id=7") == mine
    assert ids("action=order.status") == mine
    assert ids("object_type=trade_order&date_from=2001-01-01&date_to=2001-01-02") == set()


@pytest.mark.parametrize("query, field", [("actor=abc", "Actor user id"), ("before=abc", "before"),
                                          ("date_from=2026-13-01", "From")])
def test_bad_filters_are_named_and_change_nothing(client, admin, query, field):
    as_user(client, admin)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    resp = client.get("/admin/audit?" + query)
    assert resp.status_code == 422, resp.status_code
    errors = re.findall(r'class="error"[^>]*>([^<]*)', resp.get_data(as_text=True))
    assert any(field in e for e in errors), errors
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
