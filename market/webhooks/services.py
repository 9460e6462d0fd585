"""Webhook use cases: endpoints managed by an organisation's admin, events turned into deliveries.

An endpoint belongs to one organisation and receives the events of the objects that concern it
(an order's parties, a quote's requester and operator, a payout's payee); regulators' endpoints
receive `alert.raised` for alerts in their region, by the one scope rule of DESIGN.md §1 (the
record's region starts with the regulator's prefix).
"""
from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from market import db
from market.accounts.models import Organisation, User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.webhooks import delivery, registry
from market.webhooks.models import EVENT_TYPES, OutboundEvent, WebhookDelivery, WebhookEndpoint
from market.webhooks.signing import new_secret
from market.uow import transaction

MAX_ENDPOINTS = 10
log = logging.getLogger(__name__)


# --- emitting (called from market.webhooks.sources just before a commit) ------------------------

def _regulators_over(region: str | None) -> set[int]:
    if not region:
        return set()
    return set(db.session.scalars(select(Organisation.id).where(
        Organisation.scope_prefix.is_not(None), Organisation.scope_prefix != "",
        literal(region).startswith(Organisation.scope_prefix))))


def _load(session: Session, ref):
    if isinstance(ref, tuple):
        object_type, object_id = ref
        source = registry.source_for(object_type)
        if source is None:
            return None, None
        key = str(object_id)
        pk = int(key) if key.isascii() and key.isdigit() else object_id
        return source, session.get(source.model, pk)
    source = registry.source_for(ref.__tablename__)
    return source, ref


def emit_all(session: Session, pending: list[tuple]) -> None:
    """Write an event and its deliveries for each noted (type, object, changes)."""
    for kind, ref, changes in pending:
        source, obj = _load(session, ref)
        if source is None or obj is None:
            continue
        orgs = set(source.orgs(obj))
        if kind == "alert.raised" and source.regions is not None:
            for region in source.regions(obj):
                orgs |= _regulators_over(region)
        endpoints = session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.org_id.in_(orgs), WebhookEndpoint.deleted_at.is_(None),
            WebhookEndpoint.events.contains([kind])).order_by(WebhookEndpoint.id)).all()
        if not endpoints:
            continue
        try:
            data = source.serialise(obj)
        except Exception:  # a webhook must never cost the use case its commit
            log.exception("webhook %s of %s %s not serialised", kind, source.object_type, obj.id)
            continue
        if changes:
            data = {**data, "changes": changes}
        ev = OutboundEvent(public_id="evt_" + secrets.token_hex(12), type=kind,
                           object_type=source.object_type, object_id=str(obj.id), data=data,
                           created_at=utcnow())
        session.add(ev)
        session.flush()
        for ep in endpoints:
            delivery.queue(ep, ev)


# --- endpoints ----------------------------------------------------------------------------------

def _require_admin(actor: User) -> None:
    if not actor.is_org_admin:
        raise PermissionDenied(_("Only your organisation's administrator manages webhooks."))


def _check_url(url) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed(_("Enter the URL that receives the events."), field="url")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise ValidationFailed(_("The URL must start with https:// or http:// and name a host."), field="url")
    return url


def _check_events(events) -> list[str]:
    if not isinstance(events, list) or not events or any(e not in EVENT_TYPES for e in events):
        raise ValidationFailed(_("Choose one or more of: %(choices)s.",
                                 choices=", ".join(EVENT_TYPES)), field="events")
    return sorted(set(events), key=EVENT_TYPES.index)


def create_endpoint(actor: User, url, events) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; the secret is returned here and never shown again."""
    with transaction():
        _require_admin(actor)
        url = _check_url(url)
        events = _check_events(events)
        count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
            WebhookEndpoint.org_id == actor.org_id, WebhookEndpoint.deleted_at.is_(None)))
        if count >= MAX_ENDPOINTS:
            raise ValidationFailed(_("An organisation may keep at most %(n)d endpoints.",
                                     n=MAX_ENDPOINTS), field="url")
        secret = new_secret()
        ep = WebhookEndpoint(org_id=actor.org_id, url=url, events=events, secret=secret,
                             active=True, created_by=actor.id, consecutive_failures=0)
        db.session.add(ep)
        db.session.flush()
        record("webhook.endpoint_created", ep, actor=actor, changes={"url": url, "events": events})
        return ep, secret


def endpoints_of(actor: User) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.org_id == actor.org_id, WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.id)))


def endpoint_of(actor: User, endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                         WebhookEndpoint.org_id == actor.org_id,
                                         WebhookEndpoint.deleted_at.is_(None))
    ep = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if ep is None:
        raise NotFound(_("No such webhook endpoint."))
    return ep


def delete_endpoint(actor: User, endpoint_id: int) -> None:
    with transaction():
        ep = endpoint_of(actor, endpoint_id, lock=True)
        _require_admin(actor)
        ep.deleted_at = utcnow()
        ep.active = False
        record("webhook.endpoint_deleted", ep, actor=actor, changes={"url": ep.url})


def enable_endpoint(actor: User, endpoint_id: int) -> WebhookEndpoint:
    """Switch a disabled endpoint back on; its pending deliveries go out again."""
    with transaction():
        ep = endpoint_of(actor, endpoint_id, lock=True)
        _require_admin(actor)
        ep.active, ep.disabled_at, ep.failing_since, ep.consecutive_failures = True, None, None, 0
        record("webhook.endpoint_enabled", ep, actor=actor)
        delivery.push_due_of(ep.id)
        return ep


def deliveries_of(actor: User, endpoint_id: int, *, before: int | None = None,
                  limit: int = 50) -> list[WebhookDelivery]:
    ep = endpoint_of(actor, endpoint_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == ep.id)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.id < before)
    return list(db.session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


def replay(actor: User, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again (same event id: receivers drop what they already have)."""
    with transaction():
        ep = endpoint_of(actor, endpoint_id, lock=True)
        _require_admin(actor)
        old = db.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == ep.id))
        if old is None:
            raise NotFound(_("No such delivery."))
        new = delivery.queue(ep, old.event, replay_of=old.id)
        record("webhook.replayed", new, actor=actor, changes={"of": old.id})
        return new
