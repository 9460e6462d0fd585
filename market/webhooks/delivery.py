"""Delivering webhook events: signed POSTs, retries with exponential backoff for a day, one object's
deliveries in order, and endpoints switched off after failing for a day.

A delivery is durable state in webhook_delivery: the rq job only says "try it now". The scheduler
tick (market.cli) pushes every due delivery again (retry_due), so a lost push or a retry never
depends on Redis having kept a job. Every function takes `now` so tests run a day in a moment.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import select

from market import db
from market.accounts.models import User
from market.db import utcnow
from market.jobs import enqueue_after_commit, job
from market.jobs.core import get_queue
from market.notifications.messages import as_date, message
from market.notifications.services import notify_users
from market.uow import after_commit, transaction
from market.webhooks.models import OutboundEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from market.webhooks.signing import header

RETRY_FOR = timedelta(days=1)           # a delivery is retried this long, then marked failed
FIRST_RETRY_SECONDS = 30                # then 60, 120, … capped at MAX_RETRY_SECONDS
MAX_RETRY_SECONDS = 3600
DISABLE_AFTER = timedelta(days=1)       # an endpoint failing this long …
DISABLE_MIN_FAILURES = 5                # … and at least this many times in a row is switched off
TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "Hazex-Signature"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
                                 MAX_RETRY_SECONDS))


def body_of(event: OutboundEvent) -> bytes:
    return json.dumps({"id": event.public_id, "type": event.type,
                       "created_at": event.created_at.isoformat(), "data": event.data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def queue(endpoint: WebhookEndpoint, event: OutboundEvent, *, replay_of: int | None = None
          ) -> WebhookDelivery:
    """A delivery of event to endpoint, pushed to rq after the commit (inside a transaction)."""
    d = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, status="pending", attempts=0,
                        object_key=f"{event.object_type}:{event.object_id}",
                        next_attempt_at=event.created_at if replay_of is None else utcnow(),
                        replay_of=replay_of)
    db.session.add(d)
    db.session.flush()
    if db.session.info.get("uow_depth"):
        enqueue_after_commit(deliver, d.id)
    return d


@job(queue="notifications", retries=0)
def deliver(delivery_id: int) -> str:
    return attempt(delivery_id)


def _earlier_pending(d: WebhookDelivery) -> bool:
    return db.session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == d.endpoint_id, WebhookDelivery.object_key == d.object_key,
        WebhookDelivery.id < d.id, WebhookDelivery.status == "pending").limit(1)) is not None


def _next_in_line(d: WebhookDelivery) -> int | None:
    return db.session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == d.endpoint_id, WebhookDelivery.object_key == d.object_key,
        WebhookDelivery.id > d.id, WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.id).limit(1))


def _post(url: str, body: bytes, signature: str, event: OutboundEvent) -> tuple[int | None, str | None]:
    try:
        resp = requests.post(url, data=body, timeout=TIMEOUT_SECONDS, allow_redirects=False,
                             headers={"Content-Type": "application/json",
                                      SIGNATURE_HEADER: signature,
                                      "User-Agent": "Hazex-Webhooks/1",
                                      "Hazex-Event-Id": event.public_id,
                                      "Hazex-Event-Type": event.type})
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return resp.status_code, None
    return resp.status_code, f"HTTP {resp.status_code}"


def attempt(delivery_id: int, now: datetime | None = None) -> str:
    """Try one delivery if it is due and first in line; the outcome in one word."""
    now = now or utcnow()
    with transaction():
        d = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                              .with_for_update(skip_locked=True, of=WebhookDelivery))
        if d is None or d.status != "pending":
            return "done"
        ep = db.session.get(WebhookEndpoint, d.endpoint_id)
        if not ep.active or ep.deleted_at is not None:
            return "inactive"
        if d.next_attempt_at is not None and d.next_attempt_at > now:
            return "not_due"
        if _earlier_pending(d):
            return "waiting"
        body = body_of(d.event)
        started = time.monotonic()
        code, error = _post(ep.url, body, header(ep.secret, int(now.timestamp()), body), d.event)
        db.session.add(WebhookAttempt(delivery_id=d.id, at=now, status_code=code, error=error,
                                      duration_ms=int((time.monotonic() - started) * 1000)))
        d.attempts += 1
        d.last_status_code, d.last_error = code, error
        if error is None:
            d.status, d.delivered_at, d.next_attempt_at = "delivered", now, None
            ep.failing_since, ep.consecutive_failures = None, 0
        else:
            _failed(d, ep, now)
        if d.status != "pending":
            nxt = _next_in_line(d)
            if nxt is not None:
                enqueue_after_commit(deliver, nxt)
        return d.status


def _failed(d: WebhookDelivery, ep: WebhookEndpoint, now: datetime) -> None:
    retry_at = now + backoff(d.attempts)
    if retry_at - d.created_at > RETRY_FOR:
        d.status, d.next_attempt_at = "failed", None
    else:
        d.next_attempt_at = retry_at
    ep.failing_since = ep.failing_since or now
    ep.consecutive_failures += 1
    # Failing for a day: a whole day since the last success, or a delivery that gave up after its
    # day of retries without the endpoint answering anything well meanwhile.
    gave_up_failing = d.status == "failed" and ep.failing_since <= d.created_at + backoff(1)
    if ep.consecutive_failures >= DISABLE_MIN_FAILURES and (
            now - ep.failing_since >= DISABLE_AFTER or gave_up_failing):
        ep.active, ep.disabled_at = False, now
        admins = db.session.scalars(select(User).where(User.org_id == ep.org_id,
                                                       User.is_org_admin.is_(True),
                                                       User.active.is_(True)))
        notify_users(admins, "webhook.disabled",
                     message("Webhook endpoint %(url)s was switched off", url=ep.url),
                     message("It has failed every delivery since %(since)s. Fix the receiver, then "
                             "switch the endpoint on again; pending events are sent then.",
                             since=as_date(ep.failing_since)),
                     link="/webhooks")


def retry_due(now: datetime | None = None, limit: int = 500) -> int:
    """Push every pending delivery that is due on an active endpoint (the scheduler's tick)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id).join(WebhookEndpoint)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.active.is_(True))
        .order_by(WebhookDelivery.id).limit(limit)).all()
    db.session.rollback()
    q = get_queue("notifications")
    for i in ids:
        q.enqueue("market.jobs.core.execute", f"{deliver.__module__}.deliver", i,
                  job_id=f"webhook-delivery-{i}-{int(now.timestamp())}",
                  failure_ttl=24 * 3600)
    return len(ids)


def push_due_of(endpoint_id: int) -> None:
    """After the commit, try the first pending delivery of each object of an endpoint."""
    ids = db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.id)).all()
    if ids:
        after_commit(lambda: [deliver_later(i) for i in ids[:500]])


def deliver_later(delivery_id: int) -> None:
    try:
        get_queue("notifications").enqueue("market.jobs.core.execute",
                                           f"{deliver.__module__}.deliver", delivery_id)
    except Exception:  # the scheduler's retry_due sends it on its next tick
        current_app.logger.warning("webhook delivery %s not pushed", delivery_id)
