"""API routes of the account: bearer tokens, who am I, the notification inbox."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from market.accounts import services as accounts
from market.accounts.models import User
from market.accounts.tokens import issue_api_token, live_tokens, revoke_token
from market.api import bp
from market.api.auth import api_token_id, api_user
from market.api.idempotency import idempotent
from market.api.parsing import json_body, optional_int, require_str
from market.notifications import services as notifications
from market.notifications.queries import inbox, unread_count
from market.web.errors import error_response
from market.web.limiter import login_attempts_per_account, login_attempts_per_ip


def org_json(org) -> dict:
    """The public face of an organisation."""
    return {"id": org.id, "name": org.name, "types": list(org.types or []),
            "region_code": org.region_code}


def me_json(user: User) -> dict:
    """The authenticated user and their organisation."""
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "org": {**org_json(user.org), "status": user.org.status}}


@bp.post("/auth/token")
@login_attempts_per_ip
@login_attempts_per_account
def issue_token():
    """Exchange an e-mail and password for a bearer token.
    ---
    post:
      tags: [auth]
      summary: Get a bearer token
      description: >
        Failed attempts are limited per e-mail and per client address, together with the
        login form (a 429 says how long to wait in Retry-After); successful ones are not counted.
        The token expires after API_TOKEN_HOURS hours, when revoked, or when the password
        changes; send it as `Authorization: Bearer <token>`.
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TokenRequest'}
      responses:
        200:
          description: A new token
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Token'}
        400: BadRequest
        401: Unauthorized
        422: ValidationFailed
        429: RateLimited
    """
    body = json_body()
    email = require_str(body, "email", 254)
    password = require_str(body, "password", 200, strip=False)
    user = accounts.authenticate(email, password)
    if user is None:
        return error_response(401, "unauthorized", _("E-mail or password is wrong."))
    token, expires_at = issue_api_token(user)
    return jsonify(token=token, expires_at=expires_at.isoformat())


def token_json(row) -> dict:
    return {"id": row.id, "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(), "current": row.id == api_token_id()}


@bp.get("/auth/tokens")
def list_tokens():
    """The caller's API tokens that are still valid.
    ---
    get:
      tags: [auth]
      summary: List my API tokens
      description: >
        Every unexpired, unrevoked token of the caller, newest first; `current` marks the one
        this request was sent with. The tokens themselves are never shown again.
      responses:
        200:
          description: The caller's valid tokens
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ApiTokenList'}
        401: Unauthorized
    """
    return jsonify(items=[token_json(row) for row in live_tokens(api_user())])


@bp.delete("/auth/tokens/<int:token_id>")
@idempotent
def revoke_token_by_id(token_id):
    """Revoke one of the caller's API tokens.
    ---
    delete:
      tags: [auth]
      summary: Revoke an API token
      description: The token stops working at once. Another user's token is not found.
      parameters:
        - IdempotencyKey
        - {name: token_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: The token is revoked
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Revoked'}
        401: Unauthorized
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    return jsonify(revoked=revoke_token(api_user(), token_id).id)


@bp.delete("/auth/token")
@idempotent
def revoke_calling_token():
    """Revoke the API token this request is sent with (log out of the API).
    ---
    delete:
      tags: [auth]
      summary: Revoke the calling token
      description: The bearer token of this request stops working at once.
      parameters:
        - IdempotencyKey
      responses:
        200:
          description: The token is revoked
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Revoked'}
        401: Unauthorized
        409: Conflict
        422: ValidationFailed
    """
    return jsonify(revoked=revoke_token(api_user(), api_token_id()).id)


@bp.get("/me")
def me():
    """The authenticated user.
    ---
    get:
      tags: [auth]
      summary: Who am I
      responses:
        200:
          description: The user behind the token, with their organisation
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Me'}
        401: Unauthorized
    """
    return jsonify(me_json(api_user()))


def notification_json(note) -> dict:
    """One inbox entry, its text rendered in the caller's language now."""
    return {"id": note.id, "kind": note.kind, "title": note.shown_title, "body": note.shown_body,
            "link": note.link, "created_at": note.created_at.isoformat(),
            "read_at": note.read_at.isoformat() if note.read_at else None}


@bp.get("/notifications")
def list_notifications():
    """The caller's latest notifications, newest first, in the caller's language.
    ---
    get:
      tags: [notifications]
      summary: The inbox
      description: >
        The latest 100 notifications of the caller. Titles and bodies are rendered in the caller's
        language when read (the language chosen in the web app, else Accept-Language), so a change
        of language applies to earlier notifications too.
      responses:
        200:
          description: The inbox
          content:
            application/json:
              schema: {$ref: '#/components/schemas/NotificationList'}
        401: Unauthorized
    """
    user = api_user()
    return jsonify(items=[notification_json(n) for n in inbox(user.id)], unread=unread_count(user.id))


@bp.post("/notifications/read")
@idempotent
def mark_notifications_read():
    """Mark one or all of the caller's notifications read.
    ---
    post:
      tags: [notifications]
      summary: Mark notifications read
      description: >
        With `id`, marks that notification; without, every unread one of the caller.
        Notifications of other users are never touched (they count as not marked).
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                id: {type: integer, minimum: 1, description: One notification; omit for all}
      responses:
        200:
          description: How many notifications changed from unread to read
          content:
            application/json:
              schema:
                type: object
                required: [marked]
                properties:
                  marked: {type: integer}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    note_id = optional_int(body, "id", 1, 2**31 - 1)
    return jsonify(marked=notifications.mark_read(api_user(), note_id))
