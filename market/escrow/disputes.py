"""Disputes (a party contests a funded order; an admin splits what is held) and cancelling a
funded order by agreement of both parties (refund in full)."""
from __future__ import annotations

from typing import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.accounts.uploads import store_scan
from market.audit.services import record
from market.db import utcnow
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.escrow import book
from market.notifications.messages import message, verbatim
from market.escrow.alerts import alert_staff
from market.escrow.dispute_models import CancellationProposal, Dispute, DisputeEvidence
from market.escrow.errors import EscrowNotFunded, SplitMismatch
from market.escrow.policies import SplitError, plan_split
from market.jobs import enqueue_after_commit
from market.escrow.services import post_refund, post_release
from market.notifications.services import notify_org
from market.orders import services as orders
from market.orders.models import Order
from market.oversight.jobs import recompute_credit
from market.uow import transaction

MAX_EVIDENCE_FILES = 5
MAX_REASON = 2000


def _reason(text: str | None, field: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Give a reason."), field=field)
    if len(text) > MAX_REASON:
        raise ValidationFailed(_("The reason must be at most %(n)d characters.", n=MAX_REASON),
                               field=field)
    return text


def open_dispute(actor: User, order_id: int, reason: str,
                 files: Iterable[tuple[object, str]]) -> Dispute:
    """A party disputes an order whose money is in escrow; files are (stream, original name)."""
    reason = _reason(reason)
    files = list(files)
    if not files:
        raise ValidationFailed(_("Attach at least one evidence file."), field="evidence")
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(_("Attach at most %(n)d files.", n=MAX_EVIDENCE_FILES),
                               field="evidence")
    with transaction():
        order, role = orders.order_for_party(actor, order_id, lock=True)
        if role not in ("generator", "operator"):
            raise PermissionDenied(_("Only the generator or the operator may open a dispute."))
        frm = order.status
        # The transition table says when (received or settled); money must still be held.
        orders.transition(order, "disputed", role)
        if book.escrow_state(order.id).total_held() <= 0:
            raise EscrowNotFunded(_("Nothing is held in escrow for this order any more."))
        stored = [(store_scan(stream, field="evidence"), (name or "")[:200])
                  for stream, name in files]
        dispute = Dispute(order_id=order.id, opened_by_org_id=actor.org_id,
                          opened_by_user_id=actor.id, reason=reason, from_status=frm)
        db.session.add(dispute)
        db.session.flush()
        for (stored_name, mime), original in stored:
            db.session.add(DisputeEvidence(dispute_id=dispute.id, stored_name=stored_name,
                                           mime=mime, original_name=original or stored_name,
                                           uploaded_by_id=actor.id))
        record("escrow.dispute_opened", dispute, actor=actor, changes={
            "order": order.number, "from": frm, "reason": reason, "files": len(stored)})
        notify_org(order.other_party(actor.org_id), "escrow.dispute_opened",
                   message("Order %(number)s is disputed; its money stays in escrow.",
                           number=order.number), verbatim(reason), link=f"/disputes/{dispute.id}")
        alert_staff("admin", "escrow.dispute_opened",
                    message("Order %(number)s is disputed and awaits a decision.", number=order.number),
                    verbatim(reason), link=f"/disputes/{dispute.id}")
        return dispute


def parse_awards(raw: dict, order: Order) -> dict[int, int]:
    """{org id: fen} for the order's parties (generator, operator, line payees)."""
    parties = {order.generator_id, order.operator_id} | {ln.payee_org_id for ln in order.lines}
    awards: dict[int, int] = {}
    for key, value in raw.items():
        org_id = int(key) if isinstance(key, str) and key.isascii() and key.isdigit() \
            and len(key) <= 9 else key
        if type(org_id) is not int or org_id not in parties:
            raise ValidationFailed(_("%(org)s is not a party to this order.", org=key),
                                   field="split")
        if type(value) is not int or value < 0:
            raise ValidationFailed(_("Each share must be a whole number of fen, zero or more."),
                                   field="split")
        awards[org_id] = awards.get(org_id, 0) + value
    return awards


def resolve_dispute(actor: User, dispute_id: int, split: dict, note: str = "") -> Dispute:
    """An admin splits everything held between the parties; posted as releases and refunds.
    market.orders.lifecycle.resolve_dispute then moves the order to resolved."""
    if actor.platform_role != "admin":
        raise PermissionDenied(_("Only platform administrators resolve disputes."))
    with transaction():
        dispute = db.session.get(Dispute, dispute_id)
        if dispute is None:
            raise NotFound(_("No such dispute."))
        order = book.lock_order(dispute.order_id)
        db.session.refresh(dispute, with_for_update=True)
        awards = parse_awards(split, order)
        if dispute.status == "resolved":
            if dispute.split == {str(k): v for k, v in awards.items()}:
                return dispute  # a repeated submission of the same decision
            raise Conflict(_("This dispute is already resolved."), code="already_resolved")
        terms = book.terms_for(order)
        state = book.escrow_state(order.id)
        held = {org: fen for org, fen in state.held(terms).items() if fen > 0}
        try:
            releases, refunds = plan_split(terms, state.released_value, held, awards)
        except SplitError as exc:
            raise SplitMismatch(_split_message(exc, sum(held.values())), field="split") from exc
        for r in releases:
            post_release(order, r, f"dispute:{dispute.id}:release:{r.line_id}", actor, dispute.id)
        for org_id, fen in sorted(refunds.items()):
            post_refund(order, org_id, fen, f"dispute:{dispute.id}:refund:{org_id}", actor,
                        dispute.id)
        dispute.status, dispute.resolved_by_id, dispute.resolved_at = "resolved", actor.id, utcnow()
        dispute.split = {str(k): v for k, v in awards.items()}
        dispute.held_fen = sum(held.values())
        dispute.resolution_note = (note or "").strip()[:MAX_REASON] or None
        record("escrow.dispute_resolved", dispute, actor=actor, changes={
            "order": order.number, "held_fen": dispute.held_fen, "split": dispute.split,
            "note": dispute.resolution_note})
        for org_id in (order.generator_id, order.operator_id):
            notify_org(org_id, "escrow.dispute_resolved",
                       message("The dispute on order %(number)s is resolved.", number=order.number),
                       verbatim(dispute.resolution_note), link=f"/disputes/{dispute.id}")
            enqueue_after_commit(recompute_credit, org_id)  # a dispute lost costs credit
        return dispute


def _split_message(exc: SplitError, held: int) -> str:
    if exc.org_id is None:
        return _("The shares must add up to the %(held)s fen held in escrow.", held=held)
    return _("The share of organisation %(org)s is not possible: at most %(limit)s fen can go "
             "back to it, and it must cover any platform fee it owes.",
             org=exc.org_id, limit=exc.limit)


def propose_cancellation(actor: User, order_id: int, reason: str) -> CancellationProposal:
    """One party proposes cancelling a funded order; the other party's agreement refunds it."""
    reason = _reason(reason)
    with transaction():
        order, role = orders.order_for_party(actor, order_id, lock=True)
        if role not in ("generator", "operator"):
            raise PermissionDenied(_("Only the generator or the operator may propose this."))
        if order.status != "funded":
            raise InvalidState(_("Only a funded order can be cancelled by agreement."),
                               code="invalid_transition")
        if db.session.scalar(select(CancellationProposal).where(
                CancellationProposal.order_id == order.id,
                CancellationProposal.status == "open")) is not None:
            raise Conflict(_("A cancellation is already proposed for this order."))
        proposal = CancellationProposal(order_id=order.id, proposed_by_org_id=actor.org_id,
                                        proposed_by_user_id=actor.id, reason=reason)
        db.session.add(proposal)
        db.session.flush()
        record("escrow.cancellation_proposed", proposal, actor=actor,
               changes={"order": order.number, "reason": reason})
        notify_org(order.other_party(actor.org_id), "escrow.cancellation_proposed",
                   message("The other party proposes to cancel order %(number)s with a full refund.",
                           number=order.number), verbatim(reason), link=f"/orders/{order.id}/payment")
        return proposal


def answer_cancellation(actor: User, order_id: int, agree: bool) -> CancellationProposal:
    """The other party agrees or either withdraws; on agreement
    market.orders.lifecycle.answer_cancellation cancels the order and refunds the payers."""
    with transaction():
        order, role = orders.order_for_party(actor, order_id, lock=True)
        proposal = db.session.scalar(select(CancellationProposal).where(
            CancellationProposal.order_id == order.id, CancellationProposal.status == "open")
            .with_for_update())
        if proposal is None or role not in ("generator", "operator"):
            raise NotFound(_("No cancellation is proposed for this order."))
        own = proposal.proposed_by_org_id == actor.org_id
        if agree and own:
            raise PermissionDenied(_("The other party must agree to your proposal."))
        proposal.status = "agreed" if agree else "withdrawn"
        proposal.decided_by_user_id, proposal.decided_at = actor.id, utcnow()
        record("escrow.cancellation_" + proposal.status, proposal, actor=actor,
               changes={"order": order.number})
        if not agree:
            notify_org(order.other_party(actor.org_id), "escrow.cancellation_withdrawn",
                       message("The cancellation of order %(number)s was declined or withdrawn.",
                               number=order.number), link=f"/orders/{order.id}/payment")
        return proposal
