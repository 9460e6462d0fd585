"""Helpers of the marketplace web tests: logging in in English, counting rows, placing orders."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from market import db
from market.audit.models import AuditEvent
from market.jobs.models import OutboxJob
from market.listings.models import (CapacityReservation, DisposalRequest, Quote, ServiceArea,
                                    StorefrontOffer)
from market.listings.validation import today
from market.money import line_amount_fen
from market.orders.models import Order, OrderLine
from tests.factories import PASSWORD, LicenceItemFactory
from tests.listing_factories import StorefrontOfferFactory

COUNTED = (DisposalRequest, Quote, Order, OrderLine, CapacityReservation, StorefrontOffer,
           ServiceArea, AuditEvent, OutboxJob)


def counts() -> dict[str, int]:
    """Rows per marketplace table, and audit events other than logins (tests log in and out)."""
    out = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    out["AuditEvent"] = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                          .where(AuditEvent.action != "user.login"))
    return out


def as_user(client, user, lang: str = "en"):
    """Log in through the form, with the browser asking for `lang`."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def text(resp) -> str:
    """The page's text without tags, whitespace collapsed (for message assertions)."""
    body = re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))
    return re.sub(r"\s+", " ", body.replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"'))


def field_error(resp, field: str) -> str:
    """The error shown next to a form field (the `data-field` paragraph), or ''."""
    m = re.search(rf'<p class="error" data-field="{field}">(.*?)</p>', resp.get_data(as_text=True), re.S)
    return m.group(1).replace("&#39;", "'") if m else ""


def order_from_offer(generator, operator_org, *, kg: int = 2_000, unit_price_fen_per_t: int = 150_000,
                     transport_fee_fen: int = 0, status: str = "created") -> Order:
    """An order placed on a storefront offer of operator_org, with its lines and its reservation."""
    item = LicenceItemFactory(licence__org=operator_org)
    offer = StorefrontOfferFactory(operator=operator_org, unit_price_fen_per_t=unit_price_fen_per_t,
                                   transport_fee_fen=transport_fee_fen)
    n = db.session.scalar(select(func.count()).select_from(Order))
    order = Order(number=f"HXW{n:09d}{offer.id}", offer_id=offer.id, generator_id=generator.id,
                  operator_id=operator_org.id, licence_item_id=item.id,
                  category_code=item.category_code, quantity_kg=kg, region_code=generator.region_code,
                  address=generator.address, status=status)
    order.lines.append(OrderLine(kind="disposal", payee_org_id=operator_org.id,
                                 unit_price_fen_per_t=unit_price_fen_per_t, quantity_kg=kg,
                                 amount_fen=line_amount_fen(unit_price_fen_per_t, kg)))
    if transport_fee_fen:
        order.lines.append(OrderLine(kind="transport", payee_org_id=operator_org.id,
                                     unit_price_fen_per_t=None, quantity_kg=kg,
                                     amount_fen=transport_fee_fen))
    db.session.add(order)
    db.session.flush()
    db.session.add(CapacityReservation(licence_item_id=item.id, year=today().year,
                                       order_id=order.id, kg=kg))
    db.session.commit()
    return order
