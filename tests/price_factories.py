"""Builders for price tests: settled disposal lines written directly (order, line, received
manifest, settlement), fast enough for the dozens a published cell needs."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from market import db
from market.manifests.models import Manifest, ManifestLine
from market.money import line_amount_fen
from market.orders.models import Order, OrderLine
from market.settlement.models import Settlement
from market.uow import transaction
from tests.factories import LicenceItemFactory, OrganisationFactory
from tests.listing_factories import StorefrontOfferFactory

_serial = itertools.count(1)


class Market:
    """Operators (each with a licence item and an offer for the category) and generators."""

    def __init__(self, operators: int = 3, generators: int = 5, category: str = "HW08",
                 region: str = "440306"):
        self.category = category
        self.operators = []
        for _ in range(operators):
            org = OrganisationFactory(types=["operator"], region_code="441900")
            item = LicenceItemFactory(licence__org=org, category_code=category,
                                      method_codes=["R9", "D10"])
            offer = StorefrontOfferFactory(operator=org, category_code=category)
            self.operators.append((org, item, offer))
        self.generators = [OrganisationFactory(types=["generator"], region_code=region)
                           for _ in range(generators)]

    def settle(self, price: int, kg: int = 2_000, *, month: str = "2026-01", operator: int = 0,
               generator: int = 0, method_code: str = "D10", created_at=None) -> Order:
        org, item, offer = self.operators[operator % len(self.operators)]
        gen = self.generators[generator % len(self.generators)]
        received = datetime(int(month[:4]), int(month[5:7]), 10, 4, tzinfo=timezone.utc)
        with transaction():
            order = Order(number=f"PX{next(_serial):010d}", offer_id=offer.id,
                          generator_id=gen.id, operator_id=org.id, licence_item_id=item.id,
                          category_code=self.category, quantity_kg=kg, region_code=gen.region_code,
                          status="settled", **({"created_at": created_at} if created_at else {}))
            line = OrderLine(kind="disposal", payee_org_id=org.id, unit_price_fen_per_t=price,
                             quantity_kg=kg, amount_fen=line_amount_fen(price, kg))
            order.lines.append(line)
            db.session.add(order)
            db.session.flush()
            # Manifest serials from 900000: clear of the real numbering, which counts from 1.
            m = Manifest(number=f"2026{gen.region_code[:4]}{900_000 + next(_serial):06d}", order_id=order.id,
                         status="received", verify_token="t" * 32, generator_org_id=gen.id,
                         planned_pickup_at=received, carrier_org_id=org.id,
                         carrier_permit_number="粤交运危001", vehicle_plate="粤B12345",
                         driver_name="张师傅", driver_phone="13800000000", receiver_org_id=org.id,
                         licence_number="GD-HW-001", shipped_at=received, method_code=method_code,
                         received_at=received)
            m.lines.append(ManifestLine(order_line_id=line.id, category_code=self.category,
                                        name="废物", form="liquid", count=1, sent_kg=kg,
                                        received_kg=kg, refused_kg=0))
            db.session.add(m)
            db.session.add(Settlement(order_id=order.id, status="settled", accepted_kg=kg,
                                      disposal_fen=line.amount_fen, settled_at=received))
        return order

    def cell(self, prices, *, month: str = "2026-01", method_code: str = "D10") -> list[Order]:
        """One line per price, spread over the operators and generators."""
        return [self.settle(p, month=month, operator=i, generator=i, method_code=method_code)
                for i, p in enumerate(prices)]
