"""Writing audit events inside the caller's transaction."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import inspect

from market import db
from market.audit.models import AuditEvent


def _current_actor():
    if not has_request_context():
        return None
    from flask_login import current_user
    return current_user if getattr(current_user, "is_authenticated", False) else None


def changed_fields(obj) -> dict[str, list[Any]]:
    """The pending attribute changes of a mapped object as {field: [old, new]}."""
    state = inspect(obj)
    out: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            out[attr.key] = [_jsonable(old), _jsonable(new)]
    return out


def _jsonable(value):
    if value is None or isinstance(value, (str, int, bool, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def record(action: str, obj=None, *, object_type: str | None = None, object_id=None,
           changes: dict | None = None, actor=None) -> AuditEvent:
    """Add an AuditEvent to the current transaction."""
    actor = actor or _current_actor()
    if obj is not None:
        object_type = object_type or obj.__tablename__
        if object_id is None:
            if inspect(obj).pending:
                db.session.flush()
            object_id = getattr(obj, "id", None)
    event = AuditEvent(
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
        actor_user_id=getattr(actor, "id", None),
        actor_org_id=getattr(actor, "org_id", None),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
