"""The one module that sequences an order's life across contexts (DESIGN.md §3, §5).

    award (quote accepted / storefront order) ─► sampling ─► price confirmed ─┐
                                      └─────────────────────────────────────┴─► contract pending
    contract signed ─► funding ─► funded ─► in_transfer (first manifest shipped)
        ─► received (every manifest received) ─► [settlement ─► close]
    cancelled: before funded (free) or funded by agreement / an admin (refund in full)

Calls run one way: views, API and jobs → this module → each context's own steps (listings,
sampling, contracts, escrow, and the orders context's low-level services) → ledger, audit,
notifications. No context's steps import this module (tests/unit/test_import_graph.py), so the
order's next step after one context's event (the last signature, the price confirmed, the last
receipt, the cancellation) is decided here and nowhere else.

Each public function is one use case: one `with transaction():` (the contexts' own transactions
nest inside it and do not commit), the order row locked first.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.contracts import revisions
from market.contracts import services as contracts
from market.contracts.access import party_order
from market.contracts.models import ContractVersion
from market.errors import InvalidState
from market.escrow import book, disputes, funding, receipts
from market.escrow import services as escrow
from market.escrow.dispute_models import CancellationProposal, Dispute
from market.escrow.models import FundingRequest, Receipt
from market.listings import offers, quotes
from market.listings import validation as v
from market.manifests import queries as manifest_queries
from market.manifests import receiving, signing
from market.manifests import services as manifests
from market.manifests.models import Discrepancy, Manifest
from market.orders import services as orders
from market.orders import settling, state
from market.orders.models import Order
from market.sampling import gate
from market.sampling import services as sampling
from market.uow import transaction

# --- award and routing ------------------------------------------------------------------------


def route_new_order(order: Order, actor: User) -> None:
    """Send a new order on at once (system, same transaction): to a lab when the price awaits a
    sampling test, straight to the contract otherwise."""
    orders.transition(order, "sampling" if order.subject_to_sampling else "contract_pending",
                      "system")
    record("order.routed", order, actor=actor, changes={"status": ["created", order.status]})
    if order.status == "contract_pending":
        contracts.start_contract(order, actor)


def accept_quote(actor: User, quote_id: int) -> Order:
    """The generator accepts a quote: the request is awarded, the order created and routed."""
    with transaction():
        order = quotes.award_quote(actor, quote_id)
        route_new_order(order, actor)
        return order


def order_from_offer(actor: User, offer_id: int, *, quantity_kg: int,
                     region_code: str | None = None, address: str | None = None,
                     wanted_on: date | None = None) -> Order:
    """A generator orders from a storefront offer: the order is created and routed."""
    with transaction():
        order = offers.order_offer(actor, offer_id, quantity_kg=quantity_kg,
                                   region_code=region_code, address=address, wanted_on=wanted_on)
        route_new_order(order, actor)
        return order


# --- sampling: the price after the results -----------------------------------------------------


def confirm_price(actor: User, order_id: int, unit_price_fen_per_t) -> Order:
    """The operator confirms the unit price after the results; unchanged, on to the contract."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        price = v.money_fen(unit_price_fen_per_t, "unit_price_fen_per_t")
        orders.transition(order, "price_confirmed", role)  # only the operator may
        so = gate.confirm(order, actor, price)
        if so.price_decision != "changed":
            orders.transition(order, "contract_pending", "system")
            contracts.start_contract(order, actor)
        return order


def decline_price(actor: User, order_id: int, reason: str) -> Order:
    """The operator declines after the results: the order is cancelled, the lab's fee stays due."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        so = gate.decline(order, role, actor, reason)
        cancel_order(actor, order.id, so.decline_reason)
        gate.tell_lab(so, order)
        return order


def respond_to_price(actor: User, order_id: int, *, accept: bool, reason: str = "") -> Order:
    """The generator accepts a changed price (on to the contract) or rejects it (cancelled)."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        so, reason = gate.respond(order, role, actor, accept=accept, reason=reason)
        if accept:
            orders.transition(order, "contract_pending", role)
            contracts.start_contract(order, actor)
        else:
            cancel_order(actor, order.id, reason)
            gate.tell_lab(so, order)
        return order


# --- contract ----------------------------------------------------------------------------------


def sign_contract(actor: User, order_id: int, password: str, *, ip: str | None = None,
                  sha256: str | None = None) -> ContractVersion:
    """A party signs the current contract version; the last signature moves the order on:
    version 1 makes it contract_signed, a revised version gives it the revised quantity."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        version = contracts.sign(order, role, actor, password, ip=ip, sha256=sha256)
        if version.status == "signed":
            if version.version == 1:
                orders.transition(order, "contract_signed", "system")
            else:
                revisions.apply_version(order, version, actor)
            contracts.complete(order, version, actor)
            if version.version == 1:
                funding.ask_payers(order)  # each payer's next step, with a link
        return version


# --- funding -----------------------------------------------------------------------------------


def _open_funding(order: Order, role: str, actor: User | None = None) -> list[FundingRequest]:
    """contract_signed → funding: one request per payer; a zero-value order is funded at once."""
    orders.transition(order, "funding", role)
    created = funding.open_requests(order, actor)
    if not created:
        # A zero-value order has nothing to wait for.
        orders.transition(order, "funded", "system")
    return created


def start_funding(order_id: int) -> list[FundingRequest]:
    """System: open funding of a contract_signed order (one request per payer)."""
    with transaction():
        order = book.lock_order(order_id)
        funding.require_contract_signed(order)
        return _open_funding(order, "system")


def request_funding(actor: User, order_id: int) -> dict:
    """How the actor's organisation pays the order into escrow, opening funding if needed (the
    generator may open it itself; a paying operator asks as the system would)."""
    with transaction():
        order, role = orders.order_for_party(actor, order_id, lock=True)
        funding.check_payer(order, actor)
        if order.status == "contract_signed":
            _open_funding(order, "generator" if role == "generator" else "system", actor)
        return funding.payment_instructions(order, actor)


def funded_if_paid(order: Order, actor: User | None = None) -> bool:
    """funding → funded once every payer has paid in full (order locked, inside the caller's
    transaction: a receipt booked by finance or a card payment's webhook job). True if it moved.
    A received order was asked for a top-up at settlement: paid, it settles now."""
    if order.status == "received":
        settling.settle_if_ready(order, actor)
        return False
    if not funding.fully_paid(order):
        return False
    orders.transition(order, "funded", "finance" if getattr(actor, "platform_role", None)
                      == "finance" else "system")
    funding.announce_funded(order, actor)
    return True


def _funded_if_paid_for(req: FundingRequest, actor: User) -> None:
    funded_if_paid(book.lock_order(req.order_id), actor)


def confirm_receipt(actor: User, *, reference: str, amount_fen: int, received_on: date,
                    payer_name: str, bank_ref: str) -> Receipt:
    """Finance books a bank receipt; the order is funded when it completes every payment."""
    with transaction():
        receipt = receipts.confirm_receipt(actor, reference=reference, amount_fen=amount_fen,
                                           received_on=received_on, payer_name=payer_name,
                                           bank_ref=bank_ref)
        if receipt.funding_request_id is not None:
            _funded_if_paid_for(db.session.get(FundingRequest, receipt.funding_request_id), actor)
        return receipt


def match_suspense(actor: User, receipt_id: int, reference: str, amount_fen: int,
                   key: str) -> Receipt:
    """Finance applies suspense money to an order awaiting funding; funded when complete."""
    with transaction():
        receipt = receipts.match_suspense(actor, receipt_id, reference, amount_fen, key)
        _funded_if_paid_for(receipts.known_request(reference), actor)  # the step found it
        return receipt


# --- transfer: below; settlement (received → settled → closed): market/orders/settling.py, called
# from the transfer steps, the top-up in funded_if_paid, and the settlement views, API and jobs.


# --- close -------------------------------------------------------------------------------------


def close_order(actor: User | None, order_id: int) -> Order:
    """Close a settled or resolved order (staff or the system); refused while its escrow holds
    anything."""
    with transaction():
        order = book.lock_order(order_id)
        escrow.require_empty(actor, order)
        frm = order.status
        orders.transition(order, "closed", actor.platform_role if actor is not None else "system")
        record("order.closed", order, actor=actor, changes={"from": frm})
        return order


# --- cancellation ------------------------------------------------------------------------------


def cancel_order(actor: User, order_id: int, reason: str = "", *,
                 by_agreement: bool = False) -> Order:
    """Cancel an order before funding (or, for admins, after it) and release its capacity.

    by_agreement: both parties consented (answer_cancellation), so the system cancels.
    Whatever the escrow holds (a funded order, or part payments while funding) is refunded, and a
    live sampling order with no sample taken yet is withdrawn (its fee void).
    """
    with transaction():
        order, role = orders.order_for_party(actor, order_id, lock=True)
        role = "system" if by_agreement else role
        refunded = 0
        if state.problem(order.status, "cancelled", role) is None:
            # Money goes back before the order is marked cancelled: the database refuses a
            # cancelled order whose escrow is not empty.
            refunded = escrow.refund_everything(order, actor, f"cancel:{order.number}")
        sampling.withdraw_for_cancelled_order(order, actor)
        orders.mark_cancelled(order, actor, role, reason, refunded=refunded,
                              by_agreement=by_agreement)
        return order


def resolve_dispute(actor: User, dispute_id: int, split: dict, note: str = "") -> Dispute:
    """An admin splits what a disputed order holds; the order is then resolved, and the manifest
    discrepancies it took are resolved with it (a repeated submission of the same decision
    changes nothing)."""
    with transaction():
        dispute = disputes.resolve_dispute(actor, dispute_id, split, note)
        order = book.lock_order(dispute.order_id)
        if order.status not in ("resolved", "closed"):  # else a repeated decision, moved on
            orders.transition(order, "resolved", "admin")
        receiving.resolve_disputed(order.id, dispute.id)
        return dispute


def answer_cancellation(actor: User, order_id: int, agree: bool) -> CancellationProposal:
    """The other party agrees to cancel a funded order (cancelled, payers refunded in full), or
    either party withdraws the proposal."""
    with transaction():
        proposal = disputes.answer_cancellation(actor, order_id, agree)
        if agree:
            cancel_order(actor, order_id, proposal.reason, by_agreement=True)
        return proposal


# --- transfer: manifests ship and arrive, and the order follows ------------------------------


def _follow(order: Order, actor: User | None) -> None:
    """Move the order after its manifests moved (the order is locked by the manifest use case)."""
    frm = order.status
    if order.status == "funded" and manifest_queries.any_shipped(order.id):
        orders.transition(order, "in_transfer", "system")
    if order.status == "in_transfer" and manifest_queries.all_received(order.id):
        orders.transition(order, "received", "system")
    if order.status != frm:
        record("order.transferred", order, actor=actor,
               changes={"status": [frm, order.status]})
    # The last receipt settles the order at once, unless a discrepancy still holds it.
    settling.settle_if_ready(order, actor)


def create_manifest(actor: User, order_id: int, data: dict) -> Manifest:
    """The generator drafts a manifest for a funded order (the order does not move yet)."""
    return manifests.create_manifest(actor, order_id, data)


def sign_manifest(actor: User | None, manifest_id: int, *, role: str | None = None,
                  driver_code: str | None = None, ip: str | None = None) -> Manifest:
    """A pickup signature, by login (role) or by the driver's one-time code (no login)."""
    with transaction():
        if driver_code is not None:
            manifest = signing.sign_with_driver_code(manifest_id, driver_code, ip)
        else:
            manifest = signing.sign_pickup(actor, manifest_id, role, ip)
        _follow(manifest.order, actor)
        return manifest


def receive_manifest(actor: User, manifest_id: int, method_code, lines,
                     ip: str | None = None) -> Manifest:
    """The operator receives a manifest with its weights; the last one received moves the order."""
    with transaction():
        manifest = receiving.receive(actor, manifest_id, method_code, lines, ip)
        _follow(manifest.order, actor)
        return manifest


def cancel_manifest(actor: User, manifest_id: int, reason: str = "") -> Manifest:
    """Cancel a draft; when every other manifest is received already, the order is received."""
    with transaction():
        manifest = manifests.cancel_manifest(actor, manifest_id, reason)
        _follow(manifest.order, actor)
        return manifest


def decide_discrepancy(actor: User, manifest_id: int, line_id: int, action: str,
                       comment: str = "", files=()) -> Discrepancy:
    """The generator confirms a discrepancy, or disputes it at the dispute desk (once every
    manifest of the order is received; the evidence files go with the dispute)."""
    with transaction():
        discrepancy = receiving.decide_discrepancy(actor, manifest_id, line_id, action, comment)
        if action == "dispute":
            order = discrepancy.line.manifest.order
            if order.status != "received":
                raise InvalidState(_("A difference can be disputed once every manifest of the "
                                     "order is received."), code="not_received")
            dispute = disputes.open_dispute(actor, order.id, discrepancy.generator_comment, files)
            receiving.link_dispute(discrepancy.id, dispute.id)
        else:
            # The last discrepancy confirmed: the order settles now if all else is in.
            settling.settle_if_ready(discrepancy.line.manifest.order, actor)
        return discrepancy
