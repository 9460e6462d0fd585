"""The monthly operating report (经营情况月报): received, utilised, disposed and in stock by
category and method, from manifests and disposal certificates; CSV and PDF for the operator and
its regulator."""
from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from market import db
from market.db import utcnow
from market.oversight.reports import Month, operating_rows
from market.settlement.models import Settlement
from market.uow import transaction
from tests.factories import OrganisationFactory, UserFactory
from tests.fixtures import login
from tests.oversight_factories import settled_order
from tests.settlement_factories import received_order

MONTH = Month(date.today().year, date.today().month)


def certify(order) -> None:
    with transaction():
        row = db.session.scalar(select(Settlement).where(Settlement.order_id == order.id))
        row.certificate_file, row.certificate_at = "cert.pdf", utcnow()


def test_received_utilised_and_in_stock_by_category_and_method():
    op = OrganisationFactory(types=["operator"], region_code="440307")
    gen = OrganisationFactory(types=["generator"], region_code="440306")
    done = settled_order(gen, op, kg=1_000)
    certify(done)
    settled_order(gen, op, kg=2_500)
    received_order(gen, op, weights=((700, 700),), kg=700)
    assert operating_rows(op.id, MONTH) == [
        {"category": "HW08", "method_code": "R9", "received_kg": 4_200, "utilised_kg": 1_000,
         "disposed_kg": 0, "in_stock_kg": 3_200}]
    last_month = Month(MONTH.year - (MONTH.month == 1), (MONTH.month - 2) % 12 + 1)
    assert operating_rows(op.id, last_month) == []


def test_the_operator_and_its_regulator_download_it_others_do_not(client, regulator):
    op = OrganisationFactory(types=["operator"], region_code="440307")
    settled_order(OrganisationFactory(types=["generator"]), op, kg=1_000)
    path = f"/regulator/organisations/{op.id}/operating-report"
    for user in (UserFactory(org=op), regulator):
        login(client, user)
        resp = client.get(f"{path}.csv", query_string={"month": str(MONTH)})
        assert resp.status_code == 200
        rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
        assert [(r["category"], r["received_kg"], r["in_stock_kg"]) for r in rows] == [
            ("HW08", "1000", "1000")]
        client.post("/logout")
    login(client, UserFactory(org=op))
    pdf = client.get(f"{path}.pdf", query_string={"month": str(MONTH)})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    bad = client.get(f"{path}.csv", query_string={"month": "2026-13"})
    assert bad.status_code == 422
    client.post("/logout")
    login(client, UserFactory(org=OrganisationFactory(types=["operator"])))
    assert client.get(f"{path}.csv").status_code == 404
