"""Statements on the web: the months of one's organisation, CSV and PDF downloads; staff read any
organisation's, other organisations get a 404."""
from __future__ import annotations

import pytest

from market.listings.validation import today
from market.settlement import services
from tests.factories import UserFactory
from tests.settlement_factories import received_order
from tests.web.marketplace import as_user, text


@pytest.fixture
def settled(generator, operator, finance):
    order = received_order(generator.org, operator.org, finance=finance)
    services.settle(order.id)
    return order


def month() -> str:
    return today().strftime("%Y-%m")


def test_a_member_lists_its_months_and_downloads_both_files(client, settled, operator):
    as_user(client, UserFactory(org=operator.org))
    resp = client.get("/statements")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/organisations/{operator.org_id}/statements")
    page = client.get(f"/organisations/{operator.org_id}/statements")
    assert page.status_code == 200 and f'data-month="{month()}"' in page.get_data(as_text=True)
    csv = client.get(f"/organisations/{operator.org_id}/statements/{month()}.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert settled.number in csv.get_data(as_text=True)
    pdf = client.get(f"/organisations/{operator.org_id}/statements/{month()}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_another_organisations_statements_are_404(client, settled, operator, other_generator):
    as_user(client, other_generator)
    for path in (f"/organisations/{operator.org_id}/statements",
                 f"/organisations/{operator.org_id}/statements/{month()}.csv",
                 f"/organisations/{operator.org_id}/statements/{month()}.pdf"):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("bad", ["2026-13", "1999-01", "next", "2026-1"])
def test_a_month_that_is_not_one_is_404(client, operator, bad):
    as_user(client, operator)
    assert client.get(f"/organisations/{operator.org_id}/statements/{bad}.csv").status_code == 404


def test_staff_choose_any_organisation(client, settled, operator, finance):
    as_user(client, finance, lang="zh-CN")
    page = client.get("/statements")
    assert page.status_code == 200 and "结算对账单" in text(page) and operator.org.name in text(page)
    assert client.get(f"/organisations/{operator.org_id}/statements/{month()}.csv").status_code == 200
