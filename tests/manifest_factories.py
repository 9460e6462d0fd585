"""Builders for manifest tests: a funded order with a permitted carrier, manifests at a stage,
all through the real use cases."""
from __future__ import annotations

from market.orders import transfer
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
    return transfer.create_manifest(generator, order.id, manifest_data(carrier.org, kg, **extra))


def shipped(generator, order, carrier, kg: int = 1_000):
    m = draft(generator, order, carrier, kg)
    transfer.sign_manifest(generator, m.id, role="generator")
    return transfer.sign_manifest(carrier, m.id, role="carrier")


def received(generator, operator, order, carrier, kg: int = 1_000, received_kg: int | None = None,
             refused_kg: int = 0, comment: str = ""):
    m = shipped(generator, order, carrier, kg)
    lines = [{"line_id": ln.id, "received_kg": kg if received_kg is None else received_kg,
              "refused_kg": refused_kg, "comment": comment} for ln in m.lines]
    return transfer.receive_manifest(operator, m.id, "R9", lines)
