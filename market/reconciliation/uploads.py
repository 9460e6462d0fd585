"""Large statement files imported by a job (market.reconciliation.jobs.import_upload): the job's
steps record here how far it has got, each in a transaction of its own so that the desk's
progress page sees it at once; the page and the API read it back in the reader's language."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.db import utcnow
from market.errors import NotFound
from market.reconciliation.imports import refusal_text, skipped_notes
from market.reconciliation.models import Match, StatementImport, StatementLine, StatementUpload
from market.reconciliation.statement import StatementRefused, Text
from market.uow import transaction

RUNNING = ("queued", "parsing", "storing", "matching")


def needs_job(data: bytes) -> bool:
    """A file above RECON_JOB_BYTES or RECON_JOB_LINES lines is imported by a job."""
    cfg = current_app.config
    return len(data) > cfg["RECON_JOB_BYTES"] or data.count(b"\n") > cfg["RECON_JOB_LINES"]


def get(upload_id: int) -> StatementUpload:
    up = db.session.get(StatementUpload, upload_id)
    if up is None:
        raise NotFound(_("No such statement upload."))
    return up


def recent(limit: int = 10) -> list[StatementUpload]:
    return list(db.session.scalars(select(StatementUpload).order_by(StatementUpload.id.desc())
                                   .limit(limit)))


def begin(upload_id: int) -> StatementUpload | None:
    """Take a queued upload (None if another run has it or it is finished)."""
    with transaction():
        up = db.session.get(StatementUpload, upload_id, with_for_update=True)
        if up is None or up.phase != "queued":
            return None
        up.phase, up.percent = "parsing", 5
        return up


def advance(upload_id: int, phase: str, percent: int, **counts) -> None:
    with transaction():
        up = db.session.get(StatementUpload, upload_id, with_for_update=True)
        up.phase, up.percent = phase, percent
        for name, value in counts.items():
            setattr(up, name, value)


def finish(upload_id: int, imp: StatementImport) -> StatementUpload:
    """Done: how many of the import's lines are matched now; the file itself is let go."""
    with transaction():
        up = db.session.get(StatementUpload, upload_id, with_for_update=True)
        up.lines_matched = db.session.scalar(
            select(func.count()).select_from(Match).join(StatementLine,
                                                         StatementLine.id == Match.line_id)
            .where(StatementLine.import_id == imp.id))
        up.lines_parsed = up.lines_total = imp.line_count
        up.import_id, up.phase, up.percent, up.finished_at = imp.id, "done", 100, utcnow()
        up.content = b""
        return up


def fail(upload_id: int, exc: Exception) -> None:
    """Refused or stopped: the reason kept so the page can say it (a parser's in any language)."""
    if isinstance(exc, StatementRefused):
        error = {"where": list(exc.where_text) if exc.where_text else None,
                 "reason": list(exc.reason_text)}
    else:
        error = {"message": getattr(exc, "message", None) or
                 _("The import stopped: %(error)s", error=type(exc).__name__)}
    with transaction():
        up = db.session.get(StatementUpload, upload_id, with_for_update=True)
        up.phase, up.error, up.finished_at, up.content = "failed", error, utcnow(), b""


def error_message(up: StatementUpload) -> str:
    if not up.error:
        return ""
    if "reason" in up.error:
        where = Text(*up.error["where"]) if up.error.get("where") else None
        return refusal_text(where, Text(*up.error["reason"]))
    return up.error["message"]


def progress(up: StatementUpload) -> dict:
    """What the progress page and the API show."""
    imp = db.session.get(StatementImport, up.import_id) if up.import_id else None
    return {"id": up.id, "filename": up.filename, "phase": up.phase, "percent": up.percent,
            "lines_total": up.lines_total, "lines_parsed": up.lines_parsed,
            "lines_matched": up.lines_matched, "finished": up.phase not in RUNNING,
            "import_id": up.import_id, "error": error_message(up) or None,
            "skipped": skipped_notes(imp.skipped) if imp else []}
