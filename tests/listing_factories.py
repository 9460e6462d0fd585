"""factory_boy factories for listings and orders (requests, offers, service areas, quotes)."""
from __future__ import annotations

from datetime import timedelta

import factory

from market import db
from market.listings.models import (CapacityReservation, DisposalRequest, Quote, ServiceArea,
                                    StorefrontOffer)
from market.listings.validation import today
from market.orders.models import Order, OrderLine
from tests.factories import LicenceItemFactory, OrganisationFactory, _Base


class DisposalRequestFactory(_Base):
    class Meta:
        model = DisposalRequest

    number = factory.Sequence(lambda n: f"RQT{n:09d}")
    generator = factory.SubFactory(OrganisationFactory, types=["generator"])
    category_code = "HW08"
    waste_code = None
    description = "废矿物油，200 L 铁桶装"
    form = "liquid"
    packaging = "200 L 铁桶"
    hazards = ["T", "I"]
    quantity_kg = 5_000
    small_lot = factory.LazyAttribute(lambda o: o.quantity_kg <= 1000)
    region_code = "440306"
    address = "深圳市宝安区测试路1号"
    window_start = factory.LazyFunction(lambda: today() + timedelta(days=7))
    window_end = factory.LazyAttribute(lambda o: o.window_start + timedelta(days=30))
    status = "open"


class ServiceAreaFactory(_Base):
    class Meta:
        model = ServiceArea

    org_id = factory.LazyAttribute(lambda o: o.org.id)
    region_prefix = "44"

    class Params:
        org = factory.SubFactory(OrganisationFactory, types=["operator"])


class StorefrontOfferFactory(_Base):
    class Meta:
        model = StorefrontOffer

    operator = factory.SubFactory(OrganisationFactory, types=["operator"], region_code="441900")
    category_code = "HW08"
    waste_code = None
    method_code = "R9"
    service_region_prefixes = ["44"]
    min_kg = 100
    max_kg = 100_000
    unit_price_fen_per_t = 150_000
    transport_fee_fen = 0
    lead_time_days = 7
    description = ""
    active = True


class QuoteFactory(_Base):
    """A submitted quote; pass licence_item (of the operator) to back it."""
    class Meta:
        model = Quote

    request = factory.SubFactory(DisposalRequestFactory)
    operator_id = factory.LazyAttribute(lambda o: o.licence_item.licence.org_id)
    licence_item_id = factory.LazyAttribute(lambda o: o.licence_item.id)
    unit_price_fen_per_t = 200_000
    transport_fee_fen = 0
    valid_until = factory.LazyFunction(lambda: today() + timedelta(days=14))
    subject_to_sampling = False
    note = ""
    status = "submitted"

    class Params:
        licence_item = factory.SubFactory(LicenceItemFactory)


def request_data(**overrides) -> dict:
    """Valid input for listings.services.create_request."""
    data = dict(category="HW08", waste_code="900-214-08", description="废矿物油，200 L 铁桶装",
                form="liquid", packaging="200 L 铁桶", hazards=["T", "I"], quantity_kg=5_000,
                region_code="440306", address="深圳市宝安区测试路1号",
                window_start=today() + timedelta(days=7), window_end=today() + timedelta(days=37))
    data.update(overrides)
    return data


def quote_data(**overrides) -> dict:
    """Valid input for listings.quotes.submit_quote."""
    data = dict(unit_price_fen_per_t=180_000, transport_fee_fen=50_000,
                valid_until=today() + timedelta(days=14), subject_to_sampling=False, note="")
    data.update(overrides)
    return data


def reservation(item, kg: int, *, year: int | None = None, released: bool = False,
                generator=None) -> CapacityReservation:
    """An existing storefront order holding kg of the licence item (optionally already released)."""
    from market.db import utcnow
    operator_org = item.licence.org
    offer = StorefrontOfferFactory(operator=operator_org)
    generator = generator or OrganisationFactory(types=["generator"])
    n = db.session.query(Order).count()
    order = Order(number=f"HXT{n:09d}{item.id}", offer_id=offer.id, generator_id=generator.id,
                  operator_id=operator_org.id, licence_item_id=item.id, category_code=item.category_code,
                  quantity_kg=kg, region_code=generator.region_code, address="x",
                  status="cancelled" if released else "created")
    order.lines.append(OrderLine(kind="disposal", payee_org_id=operator_org.id,
                                 unit_price_fen_per_t=100_000, quantity_kg=kg, amount_fen=kg * 100))
    db.session.add(order)
    db.session.flush()
    # Default: the year of the default request window (request_data), which may be next year.
    year = year or (today() + timedelta(days=7)).year
    res = CapacityReservation(licence_item_id=item.id, year=year, order_id=order.id,
                              kg=kg, released_at=utcnow() if released else None)
    db.session.add(res)
    db.session.flush()
    return res
