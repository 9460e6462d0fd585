"""Idempotency-Key support for API writes, in one place (DESIGN.md §9).

A client that sends `Idempotency-Key: K` with a write may resend it safely: the first response is
stored per (user, K) and replayed for a repeat with `Idempotent-Replayed: true`; the same key with
a different request is a 409. Success is stored in the same transaction as the use case, so there
is never an effect without its record or a record without its effect.
"""
from __future__ import annotations

import functools
import hashlib
import json

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from market import db
from market.api.models import IdempotencyRecord
from market.errors import Conflict, DomainError, ValidationFailed
from market.uow import transaction

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
_UNIQUE = "uq_idempotency_record_user_key"


class _Unsuccessful(Exception):
    """Raised inside the transaction to roll back a view that answered >= 400 without raising."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def idempotency_key() -> str | None:
    """The request's Idempotency-Key, None without one, 422 when malformed."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not (1 <= len(key) <= MAX_KEY_LENGTH) or not all(33 <= ord(c) <= 126 for c in key):
        raise ValidationFailed(_("%(field)s must be 1 to %(n)d visible ASCII characters.",
                                 field=HEADER, n=MAX_KEY_LENGTH), field=HEADER)
    return key


def request_hash() -> str:
    """SHA-256 of method, path (with query) and the body, canonicalised when it is JSON."""
    parsed = request.get_json(force=True, silent=True)
    if parsed is None:
        body = request.get_data()
    else:
        # Key order and whitespace are not a different request.
        body = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    h = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.rstrip("?").encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                             IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise Conflict(_("This Idempotency-Key was already used for a different request."),
                       field=HEADER, code="idempotency_conflict")
    response = current_app.json.response(record.body)
    response.status_code = record.status_code
    response.headers[REPLAY_HEADER] = "true"
    return response


def _json_of(response: Response) -> dict:
    body = response.get_json(silent=True)
    if not response.is_json or not isinstance(body, dict):
        raise TypeError(f"@idempotent views must answer with a JSON object, got {response.mimetype}")
    return body


def _is_key_clash(exc: IntegrityError) -> bool:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == _UNIQUE


def _store_unsuccessful(user_id: int, key: str, digest: str, response: Response) -> Response:
    """Keep a 4xx answer in its own transaction (the use case's was rolled back)."""
    if response.status_code >= 500:
        return response
    with transaction() as s:
        s.execute(insert(IdempotencyRecord).values(
            user_id=user_id, key=key, method=request.method, path=request.path[:300],
            request_hash=digest, status_code=response.status_code, body=_json_of(response),
        ).on_conflict_do_nothing(constraint=_UNIQUE))
    # Had a concurrent twin stored first, we still answer with our own (true) outcome.
    return response


def idempotent(view):
    """Decorate an authenticated API write so repeats with the same Idempotency-Key are replayed."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = idempotency_key()
        if key is None or g.get("api_user") is None:
            # Keys are per user: a call without a token (a driver's code) is not replayed.
            return view(*args, **kwargs)
        user_id = g.api_user.id
        digest = request_hash()
        stored = _find(user_id, key)
        if stored is not None:
            return _replay(stored, digest)
        try:
            with transaction():
                # Reserve the key first: a concurrent twin blocks on the unique index here, before
                # doing any work, and fails once we commit. The use case's own transaction() nests
                # inside this one, so its effect and this record commit together.
                record = IdempotencyRecord(user_id=user_id, key=key, method=request.method,
                                           path=request.path[:300], request_hash=digest,
                                           status_code=0, body={})
                db.session.add(record)
                db.session.flush()
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code >= 400:
                    raise _Unsuccessful(response)
                record.status_code, record.body = response.status_code, _json_of(response)
            return response
        except _Unsuccessful as exc:
            return _store_unsuccessful(user_id, key, digest, exc.response)
        except IntegrityError as exc:
            if not _is_key_clash(exc):
                raise
            # We lost the race: the twin committed its effect and response; answer as it did.
            stored = _find(user_id, key)
            if stored is None:
                raise
            return _replay(stored, digest)
        except (DomainError, HTTPException) as exc:
            response = current_app.make_response(current_app.handle_user_exception(exc))
            return _store_unsuccessful(user_id, key, digest, response)
    wrapper.idempotent = True  # checked by a test: every API write must carry this decorator
    return wrapper
