"""rq queues, @job, enqueue_after_commit and the outbox dispatcher (DESIGN.md §4 rule 3)."""
from __future__ import annotations

import functools
import importlib
import logging
from datetime import timedelta

import redis
from flask import current_app, has_app_context
from rq import Queue, Retry
from sqlalchemy import select

import market
from market import db
from market.db import utcnow
from market.jobs.models import OutboxJob
from market.uow import after_commit, transaction

log = logging.getLogger(__name__)

QUEUES = ("default", "notifications", "documents", "money")
_registry: dict[str, "JobSpec"] = {}


class JobSpec:
    def __init__(self, fn, queue: str, retries: int, intervals: list[int]):
        self.fn = fn
        self.queue = queue
        self.retries = retries
        self.intervals = intervals
        self.name = f"{fn.__module__}.{fn.__name__}"


def job(queue: str = "default", retries: int = 3, intervals: tuple[int, ...] = (10, 60, 300)):
    """Declare a background job. Its arguments must be ids and other JSON scalars."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def decorate(fn):
        spec = JobSpec(fn, queue, retries, list(intervals))
        _registry[spec.name] = spec
        fn.job_spec = spec
        return fn

    return decorate


def redis_connection() -> redis.Redis:
    app = current_app._get_current_object()
    conn = app.extensions.get("hazex_redis")
    if conn is None:
        conn = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                    socket_timeout=5)
        app.extensions["hazex_redis"] = conn
    return conn


def get_queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue_after_commit(fn, *args) -> OutboxJob:
    """Record a job in the current transaction; push it to rq once the transaction commits."""
    spec: JobSpec = fn.job_spec
    for a in args:
        if not isinstance(a, (int, str, bool)) and a is not None:
            raise TypeError(f"job {spec.name} takes ids and scalars, got {type(a).__name__}")
    row = OutboxJob(queue=spec.queue, name=spec.name, args=list(args))
    db.session.add(row)
    db.session.flush()
    outbox_id = row.id
    after_commit(lambda: push(outbox_id))
    return row


def push(outbox_id: int) -> bool:
    """Push one outbox row to rq; False (row left for the dispatcher) if Redis is unreachable."""
    with transaction() as s:
        row = s.execute(select(OutboxJob).where(OutboxJob.id == outbox_id)
                        .with_for_update(skip_locked=True)).scalar_one_or_none()
        if row is None or row.pushed_at is not None:
            return False
        spec = _spec(row.name)
        row.push_attempts += 1
        try:
            get_queue(row.queue).enqueue(
                "market.jobs.core.execute", row.name, *row.args,
                job_id=f"outbox-{row.id}",
                retry=Retry(max=spec.retries, interval=spec.intervals) if spec.retries else None,
                failure_ttl=30 * 24 * 3600,
            )
        except redis.exceptions.RedisError as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("outbox job %s not pushed, Redis unavailable: %s", row.id, exc)
            return False
        row.pushed_at = utcnow()
        row.last_error = None
        return True


def dispatch_pending(older_than_seconds: int | None = None) -> int:
    """Re-send outbox rows never pushed (Redis was down, the process died); return how many went."""
    if older_than_seconds is None:
        older_than_seconds = current_app.config["OUTBOX_RESEND_AFTER_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(select(OutboxJob.id).where(
        OutboxJob.pushed_at.is_(None), OutboxJob.created_at <= cutoff).order_by(OutboxJob.id)).all()
    db.session.rollback()
    return sum(1 for i in ids if push(i))


def _spec(name: str) -> JobSpec:
    if name not in _registry:
        importlib.import_module(name.rsplit(".", 1)[0])
    return _registry[name]


def execute(name: str, *args):
    """Entry point rq calls: run the job inside an application context."""
    if has_app_context():
        return _spec(name).fn(*args)
    app = _worker_app()
    with app.app_context():
        return _spec(name).fn(*args)


@functools.lru_cache(maxsize=1)
def _worker_app():
    return market.create_app()
