"""Publication runs: the monthly schedule, the administrator's button, the job doing the work.

The daily schedule calls publish_due(day); on the publication day (PRICE_PUBLICATION_DAY) it
asks for the preliminary release of the month before and the final release of the month three
months back (market/prices/calendar.py). Each run is a row whose progress the admin page polls.
"""
from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound, ValidationFailed
from market.jobs import enqueue_after_commit, job
from market.jobs.schedule import TZ
from market.prices import calendar as cal
from market.prices.models import RELEASES, PublicationRun
from market.prices.services import publish, run_failed
from market.uow import transaction

log = logging.getLogger(__name__)


def _queue_run(month: date, release: str, actor: User | None) -> PublicationRun:
    run = PublicationRun(reference_month=month, release=release, status="queued", progress=0,
                         message="", requested_by_id=getattr(actor, "id", None))
    db.session.add(run)
    db.session.flush()
    record("price.run_requested", run, actor=actor, changes={
        "month": f"{month:%Y-%m}", "release": release})
    enqueue_after_commit(run_publication, run.id)
    return run


def request_run(actor: User, month: str | None, release: str | None) -> PublicationRun:
    """An administrator asks for a release of a month that has ended."""
    with transaction():
        first = cal.parse_month(month)
        if first is None:
            raise ValidationFailed(_("Give the month as YYYY-MM."), field="month")
        if first >= cal.month_start(utcnow().astimezone(TZ).date()):
            raise ValidationFailed(_("Only a month that has ended can be published."),
                                   field="month")
        if release not in RELEASES:
            raise ValidationFailed(_("Choose one of: %(choices)s.", choices=", ".join(RELEASES)),
                                   field="release")
        return _queue_run(first, release, actor)


def run_status(run_id: int) -> PublicationRun:
    run = db.session.get(PublicationRun, run_id)
    if run is None:
        raise NotFound(_("No such run."))
    return run


@job(queue="default", retries=0)
def run_publication(run_id: int) -> str:
    """Build the publication of a run (idempotent: a finished run is left as it is)."""
    run = db.session.get(PublicationRun, run_id)
    if run is None or run.status in ("done", "failed"):
        return "skipped"
    month, release = run.reference_month, run.release
    db.session.rollback()
    try:
        pub = publish(month, release, run_id=run_id)
    except Exception as exc:
        log.exception("price publication run %s failed", run_id)
        run_failed(run_id, f"{type(exc).__name__}: {exc}")
        raise
    return pub.label


@job(queue="default", retries=3)
def publish_due(day: str) -> list[str]:
    """The daily entry: on the publication day, queue that day's preliminary and final runs."""
    d = date.fromisoformat(day)
    if d.day != current_app.config["PRICE_PUBLICATION_DAY"]:
        return []
    rel = cal.releases_on(d)
    with transaction():
        runs = [_queue_run(rel.preliminary, "preliminary", None),
                _queue_run(rel.final, "final", None)]
    return [f"{r.reference_month:%Y-%m} {r.release}" for r in runs]
