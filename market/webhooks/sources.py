"""Where webhook events come from: the ONE place each kind is emitted (DESIGN.md §4 rule 3).

Two hooks, installed once on the session:
- an order's status: every assignment to Order.status (the state table's transition() is the only
  writer) is an `order.status_changed`;
- every other kind follows the audit event its use case already writes in the same transaction
  (AUDIT_EVENTS below): a new kind is one line here, and no context imports this module.

Events are only noted while the use case runs; just before its commit (the object now as the
use case leaves it) they become rows of webhook_event and webhook_delivery, in the use case's own
transaction, and their deliveries are pushed to rq after the commit. A rollback drops them.
"""
from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from market import db
from market.audit.models import AuditEvent
from market.orders.models import Order
from market.webhooks import services

# audit action → webhook event type
AUDIT_EVENTS = {
    "quote.submitted": "quote.submitted",
    "contract.signed": "contract.signed",
    "order.funded": "funding.confirmed",
    "escrow.payout_executed": "payout.status_changed",
    "payout.status_changed": "payout.status_changed",
    # A manifest's life (market/manifests): each step writes its own audit action.
    "manifest.created": "manifest.status_changed",
    "manifest.shipped": "manifest.status_changed",
    "manifest.received": "manifest.status_changed",
    "manifest.closed": "manifest.status_changed",
    "manifest.cancelled": "manifest.status_changed",
    "settlement.settled": "settlement.completed",
    "alert.raised": "alert.raised",
}
_PENDING = "webhook_pending"


def _note(session: Session, item: tuple) -> None:
    session.info.setdefault(_PENDING, []).append(item)


def _order_status_set(target: Order, value, oldvalue, initiator):
    if isinstance(oldvalue, str) and value != oldvalue:
        _note(db.session(), ("order.status_changed", target, {"status": [oldvalue, value]}))
    return value


def _audit_created(target: AuditEvent, args, kwargs):
    kind = AUDIT_EVENTS.get(kwargs.get("action"))
    if kind and kwargs.get("object_id") is not None:
        _note(db.session(), (kind, (kwargs["object_type"], kwargs["object_id"]), None))


def _before_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        services.emit_all(session, pending)


def _transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


_installed = False


def install() -> None:
    """Attach the hooks (idempotent; called by create_app)."""
    global _installed
    if _installed:
        return
    sa_event.listen(Order.status, "set", _order_status_set, retval=True, active_history=True)
    sa_event.listen(AuditEvent, "init", _audit_created)
    sa_event.listen(Session, "before_commit", _before_commit)
    sa_event.listen(Session, "after_transaction_end", _transaction_end)
    _installed = True
