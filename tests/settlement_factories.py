"""Builders for settlement tests: an order funded through the real use cases, then received on
manifests written directly (the manifests context's use cases are tested on their own)."""
from __future__ import annotations

import itertools
from datetime import timedelta

from market import db
from market.db import utcnow
from market.manifests.models import Discrepancy, Manifest, ManifestLine
from market.orders.models import Order
from market.uow import transaction
from tests.escrow_factories import make_order, pay_in_full
from tests.factories import OrganisationFactory

_serial = itertools.count(1)


def add_manifest(order: Order, sent_kg: int, received_kg: int | None = None, refused_kg: int = 0,
                 *, status: str | None = None, carrier_org=None) -> Manifest:
    """A manifest of one line; received (with weights) when received_kg is given."""
    status = status or ("received" if received_kg is not None else "shipped")
    carrier_org = carrier_org or OrganisationFactory(types=["carrier"], region_code="440106")
    now = utcnow()
    with transaction():
        m = Manifest(number=f"2026{order.region_code[:4]}{next(_serial):06d}", order_id=order.id,
                     status=status, verify_token="t" * 32, generator_org_id=order.generator_id,
                     planned_pickup_at=now - timedelta(days=1), carrier_org_id=carrier_org.id,
                     carrier_permit_number="粤交运危001", vehicle_plate="粤B12345",
                     driver_name="张师傅", driver_phone="13800000000",
                     receiver_org_id=order.operator_id, licence_number="GD-HW-001",
                     shipped_at=None if status == "draft" else now - timedelta(hours=5),
                     method_code="R9" if status in ("received", "closed") else None,
                     received_at=now if status in ("received", "closed") else None)
        m.lines.append(ManifestLine(
            order_line_id=order.line("disposal").id, category_code=order.category_code,
            name="废矿物油", form="liquid", count=1, sent_kg=sent_kg,
            received_kg=received_kg if status in ("received", "closed") else None,
            refused_kg=refused_kg if status in ("received", "closed") else None))
        db.session.add(m)
    return m


def open_discrepancy(m: Manifest, status: str = "open") -> Discrepancy:
    line = m.lines[0]
    with transaction():
        d = Discrepancy(manifest_line_id=line.id, manifest_id=m.id, kind="weight",
                        sent_kg=line.sent_kg, received_kg=line.received_kg or 0,
                        refused_kg=line.refused_kg or 0, receiver_comment="磅差", status=status)
        db.session.add(d)
    return d


def received_order(generator_org=None, operator_org=None, *, weights=((2_000, 2_000),),
                   refused=0, finance=None, **order_kwargs) -> Order:
    """A funded order moved to received with one received manifest per (sent, received)."""
    order = pay_in_full(make_order(generator_org, operator_org, **order_kwargs), finance)
    with transaction():
        order.status = "in_transfer"
    for sent, received in weights:
        add_manifest(order, sent, received, refused)
    with transaction():
        order.status = "received"
    return order
