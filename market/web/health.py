"""/healthz: database, Redis and queue depth; 503 when a dependency is down."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from market import db
from market.jobs import QUEUES, redis_connection

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
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
    checks["status"] = "ok" if ok else "unavailable"
    return jsonify(checks), 200 if ok else 503
