"""Builders for oversight tests: settled orders inside and outside a regulator's region, with
their manifests, alerts and licences, through the real settlement use case."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from market import db
from market.manifests.models import Manifest
from market.orders.models import Order
from market.oversight.models import Alert
from market.oversight.services import raise_alert
from market.settlement import services as settlement
from tests.factories import LicenceItemFactory, OrganisationFactory
from tests.settlement_factories import received_order


@dataclass
class World:
    generator: object
    operator: object
    order: Order
    alert: Alert
    markers: tuple[str, ...]  # strings only this world's records show


def settled_order(generator_org, operator_org, *, kg=2_000, price=150_000, **kw) -> Order:
    order = received_order(generator_org, operator_org, weights=((kg, kg),), kg=kg, price=price,
                           **kw)
    settlement.settle(order.id)
    return order


def world(city: str, name: str, *, price: int = 150_000) -> World:
    """A generator and an operator of `city` (4 digits), a settled order between them, an open
    alert on it and a licence of the operator."""
    gen = OrganisationFactory(types=["generator"], region_code=f"{city}06", name=f"{name}产废单位")
    op = OrganisationFactory(types=["operator"], region_code=f"{city}07", name=f"{name}处置公司")
    LicenceItemFactory(licence__org=op, category_code="HW08", approved_kg_per_year=50_000)
    order = settled_order(gen, op, price=price)
    alert = raise_alert("manifest_unfunded_order", "warning", subject=f"order:{order.id}",
                        order_id=order.id)
    manifests = [m.number for m in order_manifests(order)]
    return World(gen, op, order, alert, (gen.name, op.name, order.number, *manifests))


def order_manifests(order: Order):
    return list(db.session.scalars(select(Manifest).where(Manifest.order_id == order.id)))
