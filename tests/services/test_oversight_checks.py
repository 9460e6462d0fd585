"""The regulator side's sweeps of DESIGN.md §8: throughput beyond 120 % of the licensed scale,
transfer after licence expiry, material without money, and money without material (refused by
the database, so the sweep finds nothing for a lawful settlement)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from market import db
from market.accounts.models import LicenceItem
from market.oversight import checks, jobs
from market.oversight.models import Alert, CreditScore
from market.uow import transaction
from tests.escrow_factories import make_order
from tests.factories import LicenceFactory, OrganisationFactory
from tests.oversight_factories import settled_order
from tests.settlement_factories import add_manifest

YEAR = date.today().year


def alerts(rule: str) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.rule_id == rule).order_by(Alert.id)))


def operator_with_scale(kg_per_year: int):
    op = OrganisationFactory(types=["operator"], region_code="440307")
    order = make_order(operator_org=op, status="in_transfer")
    with transaction():
        db.session.get(LicenceItem, order.licence_item_id).approved_kg_per_year = kg_per_year
    return op, order


def test_throughput_beyond_120_percent_of_the_licensed_scale_raises_one_alert():
    op, order = operator_with_scale(10_000)
    add_manifest(order, 12_000, 12_000)
    assert checks.throughput(YEAR) == 0  # exactly 120 %: still within
    add_manifest(order, 1, 1)
    assert checks.throughput(YEAR) == 1
    checks.throughput(YEAR)  # the same subject is raised once
    [a] = alerts("throughput_beyond_licence")
    assert (a.operator_org_id, a.operator_region, a.severity) == (op.id, "440307", "critical")
    assert a.data == {"category": "HW08", "year": YEAR, "received_kg": 12_001,
                      "approved_kg_per_year": 10_000}


def test_waste_received_under_an_expired_licence_raises_an_alert():
    order = make_order(status="in_transfer")
    LicenceFactory(org=order.operator, number="GD-HW-001", valid_from=date(YEAR - 3, 1, 1),
                   valid_to=date.today() - timedelta(days=1))
    m = add_manifest(order, 1_000, 1_000)
    assert checks.transfers_after_licence_expiry() == 1
    [a] = alerts("transfer_after_licence_expiry")
    assert (a.manifest_id, a.order_id, a.data["licence_number"]) == (m.id, order.id, "GD-HW-001")


def test_material_without_money_and_money_without_material():
    unfunded = make_order(status="contract_signed")
    add_manifest(unfunded, 500, 500)
    lawful = settled_order(OrganisationFactory(types=["generator"]),
                           OrganisationFactory(types=["operator"], region_code="441900"))
    assert checks.received_unfunded() == 1
    assert [a.order_id for a in alerts("manifest_unfunded_order")] == [unfunded.id]
    # Releases for the settled order follow its received manifest: nothing to raise.
    assert checks.releases_before_receipt() == 0
    assert alerts("release_before_receipt") == []
    assert lawful.status == "settled"


def test_the_daily_job_runs_every_sweep_and_scores_credit_on_a_quarter_start():
    org = OrganisationFactory(types=["generator"])
    found = jobs.daily(f"{YEAR}-02-03")
    assert set(found) == {"release_before_receipt", "manifest_unfunded_order",
                          "throughput_beyond_licence", "transfer_after_licence_expiry"}
    assert db.session.get(CreditScore, org.id) is None
    found = jobs.daily(f"{YEAR}-04-01")
    assert found["credit_scores"] >= 1
    assert db.session.get(CreditScore, org.id).score == 100
