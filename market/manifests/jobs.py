"""Background jobs of manifests: delivering provincial reports, retried until accepted."""
from __future__ import annotations

import logging

from sqlalchemy import select

from market.audit.services import record
from market.db import utcnow
from market.jobs import enqueue_after_commit, job
from market.manifests import provincial
from market.manifests.models import Manifest, ProvincialReport
from market.uow import transaction

log = logging.getLogger(__name__)


def report_key(report: ProvincialReport, manifest: Manifest) -> str:
    return f"{manifest.number}-{report.event}"


@job(queue="default", retries=5, intervals=(10, 60, 300, 900, 3600))
def send_provincial_report(report_id: int) -> str:
    """Submit one report under its row lock (two workers never send it at once); a report once
    sent is never sent again. A failure is recorded, then raised so rq retries it."""
    failure = None
    with transaction() as s:
        report = s.execute(select(ProvincialReport).where(ProvincialReport.id == report_id)
                           .with_for_update()).scalar_one_or_none()
        if report is None or report.status == "sent":
            return "skipped"
        manifest = s.get(Manifest, report.manifest_id)
        report.attempts += 1
        try:
            number = provincial.gateway().submit(report_key(report, manifest), report.payload)
        except provincial.ProvincialError as exc:
            report.status, report.last_error = "failed", str(exc)[:2000]
            failure = exc
        else:
            report.status, report.sent_at, report.last_error = "sent", utcnow(), None
            report.provincial_number = number
            # The shipped event registers the manifest; its number is the manifest's.
            if number and (report.event == "shipped" or not manifest.provincial_number):
                manifest.provincial_number = number
            record("manifest.reported", manifest, changes={
                "event": report.event, "provincial_number": number, "attempts": report.attempts})
    if failure is not None:
        log.warning("provincial report %s failed: %s", report_id, failure)
        raise failure
    return "sent"


@job(queue="default")
def resend_unsent_reports(day: str) -> int:
    """Daily safety net: queue again every report still unsent once rq's retries are spent."""
    with transaction() as s:
        ids = s.scalars(select(ProvincialReport.id).where(ProvincialReport.status != "sent")
                        .order_by(ProvincialReport.id)).all()
        for report_id in ids:
            enqueue_after_commit(send_provincial_report, report_id)
    return len(ids)
