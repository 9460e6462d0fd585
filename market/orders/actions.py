"""What the caller may do on an order now: one list for the API (`actions`) and the order page.

allowed() is pure: from the order state table (market/orders/state.py TRANSITIONS), the caller's
role on the order and the facts the table cannot know (OrderFacts), it returns stable snake_case
action names, the caller's next step first. facts_for() reads those facts from the contexts; it
sits above them (like market.orders.lifecycle), and only views and the API import this module.

Names match the endpoints and forms that carry them out:
    request_sampling                POST /orders/{id}/sampling
    confirm_price, decline_price    POST /orders/{id}/price
    accept_price, reject_price      POST /orders/{id}/price/answer
    sign_contract                   POST /orders/{id}/contract/sign
    fund                            POST /orders/{id}/funding (also a top-up asked at settlement)
    upload_certificate              POST /orders/{id}/certificate (releases the retention)
    agree_cancellation              POST /orders/{id}/cancellation/answer
    propose_cancellation            POST /orders/{id}/cancellation
    dispute                         POST /orders/{id}/disputes
    resolve_dispute                 POST /disputes/{id}/resolve
    cancel                          POST /orders/{id}/cancel
    create_manifest                 POST /orders/{id}/manifests
    receive_manifest                POST /manifests/{id}/receive (a shipped manifest of the order)

To add a stage's actions (manifests, settlement), add Action rows to ORDER_ACTIONS in the order a
caller should see them, with the facts they need in OrderFacts and facts_for().
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from market import db
from market.contracts.services import contract_of
from market.escrow import book
from market.escrow.dispute_models import CancellationProposal
from market.escrow.funding import due_fen, requests_of
from market.escrow.policies import funding_plan
from market.contracts.terms import WEIGHT_TOLERANCE_PCT
from market.manifests import queries as manifest_queries
from market.manifests.policies import shipping_limit_kg
from market.manifests.services import shipped_so_far_kg
from market.orders import state
from market.orders.models import Order
from market.sampling.queries import for_order, live_for_order
from market.settlement.queries import settlement_of
from market.transitions import Action, available_actions

PARTIES = frozenset({"generator", "operator"})


@dataclass(frozen=True)
class OrderFacts:
    """What the state table cannot know about an order, read by facts_for()."""
    sampling: str | None = None           # status of the live sampling order, None when none
    price_awaits_generator: bool = False  # the operator changed the price after the results
    unsigned: frozenset[str] = field(default_factory=frozenset)  # parties yet to sign
    payers_due: frozenset[str] = field(default_factory=frozenset)  # roles that owe escrow money
    cancellation_proposed_by: str | None = None  # the party proposing to cancel a funded order
    escrow_held: bool = False             # money is held in the order's escrow
    retention_held: bool = False          # settled with a retention awaiting the certificate
    shipping_left_kg: int = 0             # kg the order's manifests may still carry
    manifest_in_transit: bool = False     # a manifest of the order has shipped, not arrived


ORDER_ACTIONS: tuple[Action, ...] = (
    Action("request_sampling", states=frozenset({"sampling"}), roles=PARTIES,
           when=lambda f, role: f.sampling is None),
    Action("confirm_price", to="price_confirmed", when=lambda f, role: f.sampling == "reported"),
    Action("decline_price", states=frozenset({"sampling"}), roles=frozenset({"operator"}),
           when=lambda f, role: f.sampling == "reported"),
    Action("accept_price", to="contract_pending", roles=frozenset({"generator"}),
           states=frozenset({"price_confirmed"}), when=lambda f, role: f.price_awaits_generator),
    Action("reject_price", states=frozenset({"price_confirmed"}), roles=frozenset({"generator"}),
           when=lambda f, role: f.price_awaits_generator),
    Action("sign_contract", states=frozenset({"contract_pending", "contract_signed"}),
           roles=PARTIES, when=lambda f, role: role in f.unsigned),
    # received: a top-up asked for at settlement, when more was accepted than was paid for
    Action("fund", states=frozenset({"contract_signed", "funding", "received"}), roles=PARTIES,
           when=lambda f, role: role in f.payers_due),
    Action("upload_certificate", states=frozenset({"settled"}), roles=frozenset({"operator"}),
           when=lambda f, role: f.retention_held),
    Action("create_manifest", states=frozenset({"funded", "in_transfer"}),
           roles=frozenset({"generator"}), when=lambda f, role: f.shipping_left_kg > 0),
    Action("receive_manifest", states=frozenset({"in_transfer"}), roles=frozenset({"operator"}),
           when=lambda f, role: f.manifest_in_transit),
    Action("agree_cancellation", states=frozenset(state.REFUND_CANCEL_FROM), roles=PARTIES,
           when=lambda f, role: f.cancellation_proposed_by not in (None, role)),
    Action("dispute", to="disputed", when=lambda f, role: f.escrow_held),
    Action("resolve_dispute", to="resolved"),
    # Parties cancel a funded order only together: one proposes, the other agrees.
    Action("propose_cancellation", to="cancelled", roles=PARTIES,
           states=frozenset(state.REFUND_CANCEL_FROM),
           when=lambda f, role: f.cancellation_proposed_by is None),
    Action("cancel", to="cancelled"),
)


def allowed(status: str, role: str | None, facts: OrderFacts = OrderFacts()) -> list[str]:
    """The actions `role` may take now on an order in `status`, the next step first. Pure."""
    return available_actions(ORDER_ACTIONS, state.TRANSITIONS, status, role, facts)


def _party(order: Order, org_id: int) -> str | None:
    return {order.generator_id: "generator", order.operator_id: "operator"}.get(org_id)


def _unsigned(order: Order) -> frozenset[str]:
    contract = contract_of(order.id)
    if contract is None or not contract.versions:
        return frozenset()
    version = contract.current
    # Version 1 is signed while the order awaits it; a revised version while the order is signed.
    if version.status != "pending_signatures" or \
            order.status != ("contract_pending" if version.version == 1 else "contract_signed"):
        return frozenset()
    return PARTIES - {s.party for s in version.signatures}


def _payers_due(order: Order) -> frozenset[str]:
    if order.status == "contract_signed":
        payers = funding_plan(book.terms_for(order))
    else:
        escrow = book.escrow_state(order.id)
        payers = {r.payer_org_id: 1 for r in requests_of(order.id)
                  if r.status == "open" and due_fen(r, escrow) > 0}
    return frozenset(filter(None, (_party(order, org_id) for org_id in payers)))


def facts_for(order: Order) -> OrderFacts:
    """Read the facts allowed() needs, only those that matter in the order's status."""
    status = order.status
    facts: dict = {}
    if status == "sampling":
        live = live_for_order(order.id)
        facts["sampling"] = live.status if live is not None else None
    if status == "price_confirmed":
        so = next((s for s in reversed(for_order(order.id)) if s.status == "closed"), None)
        facts["price_awaits_generator"] = (so is not None and so.price_decision == "changed"
                                           and so.generator_response is None)
    if status in ("contract_pending", "contract_signed"):
        facts["unsigned"] = _unsigned(order)
    if status in ("contract_signed", "funding", "received"):
        facts["payers_due"] = _payers_due(order)
    if status == "settled":
        row = settlement_of(order.id)
        facts["retention_held"] = (row is not None and row.retained_fen > 0
                                   and row.certificate_file is None)
    if status in state.REFUND_CANCEL_FROM:
        proposer = db.session.scalar(select(CancellationProposal.proposed_by_org_id).where(
            CancellationProposal.order_id == order.id, CancellationProposal.status == "open"))
        facts["cancellation_proposed_by"] = _party(order, proposer) if proposer else None
    if status in ("funded", "in_transfer"):
        limit = shipping_limit_kg(order.quantity_kg, WEIGHT_TOLERANCE_PCT)
        facts["shipping_left_kg"] = max(limit - shipped_so_far_kg(order.id), 0)
        facts["manifest_in_transit"] = any(m.status == "shipped"
                                           for m in manifest_queries.manifests_of(order.id))
    if any(frm == status and to == "disputed" for frm, to in state.TRANSITIONS):
        facts["escrow_held"] = book.escrow_state(order.id).total_held() > 0
    return OrderFacts(**facts)


def for_caller(order: Order, role: str | None) -> list[str]:
    """The caller's actions on the order now (none for a regulator, who reads)."""
    if role is None:
        return []
    return allowed(order.status, role, facts_for(order))
