"""/healthz: up or down for anyone; database, Redis and queue depth for platform staff only."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from market import db
from market.jobs import QUEUES, redis_connection
from market.web.security import acting_user

bp = Blueprint("health", __name__)


def _checks() -> tuple[bool, dict]:
    checks: dict = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure is a failing dependency
        checks["database"] = f"down: {type(exc).__name__}"
        ok = False
    finally:
        db.session.rollback()
    try:
        conn = redis_connection()
        conn.ping()
        checks["redis"] = "ok"
        checks["queues"] = {q: conn.llen(f"rq:queue:{q}") for q in QUEUES}
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
        ok = False
    return ok, checks


def _staff_or_none():
    """The logged-in user when the database can say who that is; nobody when it is down."""
    try:
        return acting_user()
    except Exception:  # the database is down: answer as to anyone
        db.session.rollback()
        return None


@bp.get("/healthz")
def healthz():
    ok, checks = _checks()
    user = _staff_or_none()
    # Versions of the trouble (which dependency, which exception, queue depths) are for staff.
    body = checks if user is not None and user.platform_role else {}
    body["status"] = "ok" if ok else "unavailable"
    return jsonify(body), 200 if ok else 503
