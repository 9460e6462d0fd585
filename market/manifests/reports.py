"""Provincial reports written in the use case's transaction and sent by a job after commit."""
from __future__ import annotations

from sqlalchemy import select

from market import db
from market.db import utcnow
from market.jobs import enqueue_after_commit
from market.manifests.jobs import send_provincial_report
from market.manifests.models import Manifest, ProvincialReport


def payload(manifest: Manifest, event: str) -> dict:
    """The event as the provincial system receives it (docs/provincial.md)."""
    order = manifest.order
    return {
        "event": event,
        "manifest": {
            "number": manifest.number, "status": manifest.status,
            "order_number": order.number,
            "shipped_at": manifest.shipped_at.isoformat() if manifest.shipped_at else None,
            "received_at": manifest.received_at.isoformat() if manifest.received_at else None,
        },
        "generator": {"name": manifest.generator.name,
                      "credit_code": manifest.generator.credit_code or "",
                      "region_code": manifest.generator.region_code,
                      "pickup_address": manifest.pickup_address},
        "carrier": {"name": manifest.carrier.name, "credit_code": manifest.carrier.credit_code or "",
                    "permit_number": manifest.carrier_permit_number,
                    "vehicle_plate": manifest.vehicle_plate},
        "receiver": {"name": manifest.receiver.name,
                     "credit_code": manifest.receiver.credit_code or "",
                     "licence_number": manifest.licence_number,
                     "method_code": manifest.method_code},
        "lines": [{"category": ln.category_code, "waste_code": ln.waste_code, "name": ln.name,
                   "form": ln.form, "packaging": ln.packaging, "count": ln.count,
                   "sent_kg": ln.sent_kg, "received_kg": ln.received_kg,
                   "refused_kg": ln.refused_kg} for ln in manifest.lines],
        "reported_at": utcnow().isoformat(),
    }


def queue_report(manifest: Manifest, event: str) -> ProvincialReport:
    """Write the report row now; the job sends it once the use case commits."""
    report = ProvincialReport(manifest_id=manifest.id, event=event, status="pending",
                              payload=payload(manifest, event))
    db.session.add(report)
    db.session.flush()
    enqueue_after_commit(send_provincial_report, report.id)
    return report


def retry_report(report_id: int) -> ProvincialReport | None:
    """Queue an unsent report again (admin page); call inside a transaction."""
    report = db.session.scalar(select(ProvincialReport).where(ProvincialReport.id == report_id)
                               .with_for_update())
    if report is None or report.status == "sent":
        return report
    enqueue_after_commit(send_provincial_report, report.id)
    return report

