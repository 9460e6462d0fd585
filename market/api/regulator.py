"""API routes of the regulator workspace (DESIGN.md §8, §9): the settlement feed (JSON, paged, and
CSV), alerts and their notes, sanctions. Scoped by the one region rule; regulators see their
region, platform staff everything, anyone else is refused (403)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.changes import changes_page, feed_request
from market.api.idempotency import idempotent
from market.api.openapi import SCHEMAS, _INT, _STR, _list_of, _obj
from market.api.pagination import Key, decode_cursor, encode_cursor, list_body
from market.api.parsing import json_body, query_int, query_str
from market.errors import ValidationFailed
from market.oversight import feed, queries, services
from market.oversight.models import ALERT_STATUSES, Alert, Sanction
from market.settlement.models import Settlement

ID = "int(max=2147483647)"
MAX_RANGE_DAYS = 366
_FEN = {**_INT, "description": "Integer fen"}
SCHEMAS.update({
    "SettlementFeedLine": _obj(
        list(feed.COLUMNS), id=_INT, order_number=_STR, settled_at={**_STR, "format": "date-time"},
        kind={**_STR, "enum": ["disposal", "transport", "sampling"]}, category=_STR,
        waste_code={**_STR, "nullable": True}, generator_id=_INT, generator_name=_STR,
        generator_credit_code={**_STR, "nullable": True}, generator_region=_STR, operator_id=_INT,
        operator_name=_STR, operator_credit_code={**_STR, "nullable": True}, operator_region=_STR,
        pickup_region=_STR, payer_id=_INT, payer_name=_STR, payee_id=_INT, payee_name=_STR,
        accepted_kg=_INT, unit_price_fen_per_t={**_INT, "nullable": True,
                                                "description": "Fen per tonne; may be negative"},
        value_fen=_FEN, fee_fen=_FEN, retained_fen=_FEN,
        released_fen={**_FEN, "description": "Released to the payee so far (escrow movements)"},
        manifest_numbers={"type": "array", "items": _STR}),
    "RegulatorAlert": _obj(
        ["id", "rule_id", "severity", "status", "subject", "created_at"], id=_INT, rule_id=_STR,
        severity={**_STR, "enum": ["info", "warning", "critical"]},
        status={**_STR, "enum": list(ALERT_STATUSES)}, subject=_STR,
        note={**_STR, "nullable": True}, order_id={**_INT, "nullable": True},
        manifest_id={**_INT, "nullable": True}, generator_org_id={**_INT, "nullable": True},
        operator_org_id={**_INT, "nullable": True}, data={"type": "object"},
        created_at={**_STR, "format": "date-time"},
        updated_at={**_STR, "format": "date-time", "nullable": True}),
    "AlertUpdate": _obj(["status"], status={**_STR, "enum": ["acknowledged", "closed"]},
                        note={**_STR, "maxLength": 2000,
                              "description": "Required when closing"}),
    "SanctionRequest": _obj(["org_id", "kind", "reason", "valid_from", "valid_to"], org_id=_INT,
                            kind={**_STR, "enum": ["blacklist"]}, reason={**_STR, "maxLength": 2000},
                            valid_from={**_STR, "format": "date"},
                            valid_to={**_STR, "format": "date"}),
    "Sanction": _obj(["id", "org_id", "kind", "reason", "valid_from", "valid_to"], id=_INT,
                     org_id=_INT, kind=_STR, reason=_STR, valid_from={**_STR, "format": "date"},
                     valid_to={**_STR, "format": "date"}),
})
SCHEMAS["SettlementFeedLineList"] = _list_of("SettlementFeedLine")
SCHEMAS["RegulatorAlertList"] = _list_of("RegulatorAlert")


def _range() -> tuple[date, date]:
    """?from=&to= (YYYY-MM-DD, inclusive); by default the last 30 days."""
    def day(name: str, default: date) -> date:
        raw = query_str(name, 10)
        if raw is None:
            return default
        try:
            return date.fromisoformat(raw) if len(raw) == 10 else date.fromisoformat("x")
        except ValueError:
            raise ValidationFailed(_("%(field)s must be a date written YYYY-MM-DD (ISO 8601).",
                                     field=name), field=name) from None
    today = date.today()
    to = day("to", today)
    frm = day("from", to - timedelta(days=30))
    if frm > to:
        raise ValidationFailed(_("from must not be after to."), field="from")
    if (to - frm).days > MAX_RANGE_DAYS:
        raise ValidationFailed(_("The range may span at most %(n)s days.", n=MAX_RANGE_DAYS),
                               field="to")
    return frm, to


_ID_KEY = [Key(column=None, type=int, attr="id")]


def _cursor_id() -> int | None:
    raw = (request.args.get("cursor") or "").strip()
    return decode_cursor(raw, _ID_KEY)[0] if raw else None


@bp.get("/regulator/settlements")
def settlement_feed():
    """Every settled line in the region, paged.
    ---
    get:
      tags: [regulator]
      summary: The settlement feed
      description: >
        Regulators see the lines of orders in their region (the generator's, the pickup or the
        operator's region under the scope prefix); platform staff every line; anyone else 403.
        A line is listed when its order settled between `from` and `to` (inclusive, days in
        Asia/Shanghai; at most 366 days; the last 30 by default). Amounts are integer fen;
        `released_fen` is what the escrow movements released. The same rows as CSV:
        `/regulator/settlements.csv`.

        With `updated_after` this is a change feed of settlements instead of a date range:
        each page holds every line of up to `limit` settlements settled or changed (its lines,
        its retention released) after that time, in commit order, a settlement's lines by id;
        `from` and `to` are ignored. Keep passing `cursor`.
      parameters:
        - {name: from, in: query, schema: {type: string, format: date}}
        - {name: to, in: query, schema: {type: string, format: date}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: A page of lines
          content:
            application/json:
              schema: {$ref: '#/components/schemas/SettlementFeedLineList'}
        401: Unauthorized
        403: Forbidden
        422: ValidationFailed
    """
    prefix = queries.prefix_of(api_user())
    changes = feed_request()
    if changes:
        page = changes_page(feed.settlements_query(prefix), Settlement, changes)
        rows = feed.feed_rows(prefix, None, None, settlement_ids=[s.id for s in page.items])
        return jsonify({"items": rows, "next": page.next})
    frm, to = _range()
    limit = query_int("limit", 50, 1, 200)
    rows = feed.feed_rows(prefix, frm, to, after_id=_cursor_id(), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": rows, "next": encode_cursor([rows[-1]["id"]]) if more else None})


@bp.get("/regulator/settlements.csv")
def settlement_feed_csv():
    """Every settled line in the region, as CSV.
    ---
    get:
      tags: [regulator]
      summary: The settlement feed as CSV
      description: >
        The rows of `/regulator/settlements` for the whole range, UTF-8 with a BOM, one header
        row; text cells beginning with = + - @ are prefixed with ' so no spreadsheet runs them.
      parameters:
        - {name: from, in: query, schema: {type: string, format: date}}
        - {name: to, in: query, schema: {type: string, format: date}}
      responses:
        200:
          description: CSV
          content:
            text/csv:
              schema: {type: string}
        401: Unauthorized
        403: Forbidden
        422: ValidationFailed
    """
    prefix = queries.prefix_of(api_user())
    frm, to = _range()
    return csv_response(feed.feed_csv(feed.feed_rows(prefix, frm, to)),
                        f"settlements-{frm.isoformat()}-{to.isoformat()}.csv")


def csv_response(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def alert_json(a: Alert) -> dict:
    return {"id": a.id, "rule_id": a.rule_id, "severity": a.severity, "status": a.status,
            "subject": a.subject, "note": a.note, "order_id": a.order_id,
            "manifest_id": a.manifest_id, "generator_org_id": a.generator_org_id,
            "operator_org_id": a.operator_org_id, "data": a.data or {},
            "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat() if a.updated_at else None}


@bp.get("/regulator/alerts")
def list_alerts():
    """Alerts in the region.
    ---
    get:
      tags: [regulator]
      summary: The alerts queue
      description: >
        The 三流合一 alerts (DESIGN.md §8) whose generator, pickup or operator region lies in the
        regulator's region, oldest first, optionally by `status`. With `updated_after` the list
        is a change feed in commit order: an alert comes once per change (raised, acknowledged,
        closed with a note); keep passing `cursor`. With `status` a feed lists only alerts that
        have that status now.
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, acknowledged, closed]}}
        - updated_after
        - cursor
        - limit
      responses:
        200:
          description: A page of alerts
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RegulatorAlertList'}
        401: Unauthorized
        403: Forbidden
        422: ValidationFailed
    """
    prefix = queries.prefix_of(api_user())
    status = query_str("status", 20)
    if status is not None and status not in ALERT_STATUSES:
        raise ValidationFailed(_("status must be open, acknowledged or closed."), field="status")
    feed = feed_request()
    if feed:
        return jsonify(list_body(changes_page(queries.alerts_query(prefix, status), Alert, feed),
                                 alert_json))
    limit = query_int("limit", 50, 1, 200)
    rows = queries.alerts(prefix, status=status, after_id=_cursor_id() or 0, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [alert_json(a) for a in rows],
                    "next": encode_cursor([rows[-1].id]) if more else None})


@bp.post(f"/regulator/alerts/<{ID}:alert_id>")
@idempotent
def update_alert(alert_id: int):
    """Acknowledge or close an alert.
    ---
    post:
      tags: [regulator]
      summary: Acknowledge an alert, or close it with a note
      description: >
        open → acknowledged → closed; closing needs a `note`. Audited. An alert outside the
        regulator's region is a 404.
      parameters:
        - {name: alert_id, in: path, required: true, schema: {type: integer}}
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/AlertUpdate'}
      responses:
        200:
          description: The alert
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RegulatorAlert'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        409: Conflict
        422: ValidationFailed
    """
    body = json_body()
    alert = services.update_alert(api_user(), alert_id, body.get("status"), body.get("note"))
    return jsonify(alert_json(alert))


def sanction_json(s: Sanction) -> dict:
    return {"id": s.id, "org_id": s.org_id, "kind": s.kind, "reason": s.reason,
            "valid_from": s.valid_from.isoformat(), "valid_to": s.valid_to.isoformat()}


@bp.post("/regulator/sanctions")
@idempotent
def impose_sanction():
    """Blacklist an organisation of the region.
    ---
    post:
      tags: [regulator]
      summary: Impose a sanction
      description: >
        A regulator of the organisation's region blacklists it from `valid_from` to `valid_to`
        (inclusive, at most five years): a blacklisted operator drops out of matching (rule
        `org_blacklisted` in explain), a blacklisted generator cannot post requests. The
        organisation's credit score is recomputed. An organisation outside the region is a 404.
      parameters:
        - IdempotencyKey
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SanctionRequest'}
      responses:
        201:
          description: The sanction
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Sanction'}
        400: BadRequest
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: ValidationFailed
    """
    body = json_body()
    sanction = services.impose_sanction(api_user(), body.get("org_id"), body.get("kind"),
                                        body.get("reason"), body.get("valid_from"),
                                        body.get("valid_to"))
    return jsonify(sanction_json(sanction)), 201
