"""Builders for escrow tests: orders at a chosen status, funded through the real use cases."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from market import db, ledger
from market.audit.models import AuditEvent
from market.escrow import funding
from market.escrow.dispute_models import Dispute, DisputeEvidence
from market.escrow.models import FundingRequest, Receipt
from market.ledger.models import Entry
from market.listings.validation import today
from market.money import line_amount_fen
from market.orders import lifecycle
from market.orders.models import Order, OrderLine
from market.orders.services import next_number
from market.uow import transaction
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import StorefrontOfferFactory

PDF = b"%PDF-1.4\n% evidence\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def make_order(generator_org=None, operator_org=None, *, price: int = 150_000, kg: int = 2_000,
               transport_fen: int = 0, sampling_fen: int = 0, lab_org=None, carrier_org=None,
               status: str = "contract_signed", category: str = "HW08") -> Order:
    """An order with a disposal line (and optional transport and sampling lines) at `status`."""
    generator_org = generator_org or OrganisationFactory(types=["generator"])
    operator_org = operator_org or OrganisationFactory(types=["operator"], region_code="441900")
    item = LicenceItemFactory(licence__org=operator_org, category_code=category)
    offer = StorefrontOfferFactory(operator=operator_org, category_code=category)
    with transaction():
        order = Order(number=next_number(), offer_id=offer.id, generator_id=generator_org.id,
                      operator_id=operator_org.id, licence_item_id=item.id,
                      category_code=category, quantity_kg=kg,
                      region_code=generator_org.region_code, address="测试路1号", status=status)
        order.lines.append(OrderLine(kind="disposal", payee_org_id=operator_org.id,
                                     unit_price_fen_per_t=price, quantity_kg=kg,
                                     amount_fen=line_amount_fen(price, kg)))
        if transport_fen:
            payee = carrier_org.id if carrier_org is not None else operator_org.id
            order.lines.append(OrderLine(kind="transport", payee_org_id=payee, quantity_kg=kg,
                                         unit_price_fen_per_t=None, amount_fen=transport_fen))
        if sampling_fen:
            lab_org = lab_org or OrganisationFactory(types=["lab"], region_code="440305")
            order.lines.append(OrderLine(kind="sampling", payee_org_id=lab_org.id, quantity_kg=kg,
                                         unit_price_fen_per_t=None, amount_fen=sampling_fen))
        db.session.add(order)
    return order


def finance_user():
    from tests.factories import PlatformOrgFactory
    return UserFactory(org=PlatformOrgFactory(), platform_role="finance")


def pay_in_full(order: Order, finance=None) -> Order:
    """Open funding and book an exact bank receipt for every payer: the order ends funded."""
    finance = finance or finance_user()
    if order.status == "contract_signed":
        lifecycle.start_funding(order.id)
    for req in funding.requests_of(order.id):
        lifecycle.confirm_receipt(finance, reference=req.reference, amount_fen=req.amount_fen,
                                 received_on=today(), payer_name="付款单位",
                                 bank_ref=f"BANK-{req.reference}")
    db.session.refresh(order)
    return order


def set_status(order: Order, status: str) -> Order:
    """Move an order along states owned by later issues (in_transfer, received) directly."""
    with transaction():
        order.status = status
    return order


def dispute_on(order: Order, user) -> Dispute:
    """An open dispute with one evidence file on disk, written directly (authorisation tests)."""
    name = f"dispute-{order.id}.pdf"
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(PDF)
    with transaction():
        dispute = Dispute(order_id=order.id, opened_by_org_id=user.org_id,
                          opened_by_user_id=user.id, reason="重量不符", from_status="received")
        db.session.add(dispute)
        db.session.flush()
        db.session.add(DisputeEvidence(dispute_id=dispute.id, stored_name=name,
                                       mime="application/pdf", original_name="磅单.pdf",
                                       uploaded_by_id=user.id))
    return dispute


SNAPSHOT_MODELS = (Entry, Receipt, FundingRequest, Dispute, DisputeEvidence)
# Audit rows a refused use case must not add; logging in and getting a token are not use cases.
NOT_USE_CASES = ("api_token.issued", "user.login")


def money_snapshot(*orders: Order) -> dict:
    """What a refused money use case must leave as it was: rows, the orders' statuses and escrow
    balances, the ledger's trial balance and the files on disk. Compare before and after."""
    db.session.expire_all()
    snap: dict = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                  for m in SNAPSHOT_MODELS}
    snap["AuditEvent"] = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.not_in(NOT_USE_CASES)))
    for order in orders:
        snap[order.number] = (db.session.get(Order, order.id).status,
                              ledger.balance(f"escrow:{order.number}"))
    snap["balances"] = ledger.balances()
    folder = Path(current_app.config["UPLOAD_DIR"])
    snap["files"] = sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    return snap
