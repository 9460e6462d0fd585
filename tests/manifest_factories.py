"""Builders for manifest tests: a funded order with a permitted carrier, manifests at a stage,
all through the real use cases."""
from __future__ import annotations

import secrets
from datetime import date

from market import db
from market.db import utcnow
from market.manifests import numbering
from market.manifests.models import Discrepancy, Manifest, ManifestLine, ProvincialReport
from market.orders import lifecycle
from market.uow import transaction
from tests.escrow_factories import make_order, pay_in_full
from tests.factories import OrganisationFactory, PermitFactory, UserFactory


def carrier_user(**permit):
    """A user of a verified carrier with a valid dangerous-goods transport permit."""
    user = UserFactory(org=OrganisationFactory(types=["carrier"], region_code="440106"))
    PermitFactory(org=user.org, **permit)
    return user


def funded_order(generator_org, operator_org, finance=None, *, kg: int = 2_000, **kw):
    return pay_in_full(make_order(generator_org, operator_org, kg=kg, **kw), finance)


def manifest_data(carrier_org, kg: int = 1_000, **extra) -> dict:
    data = {"carrier_org_id": carrier_org.id, "vehicle_plate": "粤B12345", "driver_name": "王师傅",
            "driver_phone": "13800138000", "driver_email": "driver@example.cn",
            "lines": [{"quantity_kg": kg, "packaging": "吨桶", "count": 2}]}
    data.update(extra)
    return data


def draft(generator, order, carrier, kg: int = 1_000, **extra):
    return lifecycle.create_manifest(generator, order.id, manifest_data(carrier.org, kg, **extra))


def shipped(generator, order, carrier, kg: int = 1_000):
    m = draft(generator, order, carrier, kg)
    lifecycle.sign_manifest(generator, m.id, role="generator")
    return lifecycle.sign_manifest(carrier, m.id, role="carrier")


def received(generator, operator, order, carrier, kg: int = 1_000, received_kg: int | None = None,
             refused_kg: int = 0, comment: str = ""):
    m = shipped(generator, order, carrier, kg)
    lines = [{"line_id": ln.id, "received_kg": kg if received_kg is None else received_kg,
              "refused_kg": refused_kg, "comment": comment} for ln in m.lines]
    return lifecycle.receive_manifest(operator, m.id, "R9", lines)


def manifest_objects(org, order) -> dict:
    """manifest_id, line_id, report_id, number: a draft manifest of `order` written directly
    (the order need not be funded), `org` its generator and carrier, with a discrepancy on its
    line and an unsent provincial report (authorisation tests)."""
    with transaction():
        m = Manifest(number=numbering.allocate(date.today().year, order.region_code),
                     order_id=order.id, status="draft", verify_token=secrets.token_hex(16),
                     generator_org_id=org.id, planned_pickup_at=utcnow(),
                     carrier_org_id=org.id, carrier_permit_number="粤交运000000",
                     vehicle_plate="粤B12345", driver_name="王师傅", driver_phone="13800138000",
                     receiver_org_id=order.operator_id, licence_number="粤危废00000")
        m.lines.append(ManifestLine(category_code=order.category_code, name="废矿物油",
                                    form="liquid", packaging="吨桶", count=1, sent_kg=1_000))
        db.session.add(m)
        db.session.flush()
        line = m.lines[0]
        db.session.add(Discrepancy(manifest_line_id=line.id, manifest_id=m.id, kind="weight",
                                   sent_kg=1_000, received_kg=900, refused_kg=0,
                                   receiver_comment="含水"))
        report = ProvincialReport(manifest_id=m.id, event="shipped", status="failed",
                                  payload={}, attempts=1, last_error="HTTP 503")
        db.session.add(report)
        db.session.flush()
    return {"manifest_id": m.id, "line_id": line.id, "report_id": report.id, "number": m.number}
