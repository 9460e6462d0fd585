"""The OpenAPI 3.0.3 description of /api/v1, generated from the routes and their docstrings."""
from __future__ import annotations

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask, current_app, jsonify

from market.api import bp


def _obj(required: list[str], **props) -> dict:
    return {"type": "object", "required": required, "properties": props}


def _list_of(ref: str) -> dict:
    return _obj(["items", "next"],
                items={"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
                next={"type": "string", "nullable": True,
                      "description": "Pass as ?cursor= for the next page; null on the last"})


_STR = {"type": "string"}
_INT = {"type": "integer"}
_TYPES = {"type": "array", "items": {"type": "string", "enum": ["generator", "operator", "carrier", "lab"]}}

SCHEMAS = {
    "Error": _obj(["error"], error=_obj(
        ["code", "message"], code={**_STR, "example": "validation_failed"},
        message={**_STR, "description": "In the request's language"},
        field={**_STR, "description": "The input at fault, when there is one"})),
    "TokenRequest": _obj(["email", "password"], email={**_STR, "maxLength": 254},
                         password={**_STR, "maxLength": 200, "format": "password"}),
    "Token": _obj(["token", "expires_at"], token=_STR, expires_at={**_STR, "format": "date-time"}),
    "ApiToken": _obj(["id", "created_at", "expires_at", "current"], id=_INT,
                     created_at={**_STR, "format": "date-time"},
                     expires_at={**_STR, "format": "date-time"},
                     current={"type": "boolean",
                              "description": "The token this request was sent with"}),
    "ApiTokenList": _obj(["items"], items={"type": "array",
                                           "items": {"$ref": "#/components/schemas/ApiToken"}}),
    "Revoked": _obj(["revoked"], revoked={**_INT, "description": "The id of the revoked token"}),
    "Notification": _obj(["id", "kind", "title", "body", "link", "created_at", "read_at"], id=_INT,
                         kind={**_STR, "example": "escrow.released"},
                         title={**_STR, "description": "In the caller's language, as of this request"},
                         body={**_STR, "description": "In the caller's language; text a person "
                                                      "wrote (a reason) as written"},
                         link={**_STR, "nullable": True}, created_at={**_STR, "format": "date-time"},
                         read_at={**_STR, "format": "date-time", "nullable": True}),
    "NotificationList": _obj(["items", "unread"], items={
        "type": "array", "items": {"$ref": "#/components/schemas/Notification"}}, unread=_INT),
    "Organisation": _obj(["id", "name", "types", "region_code"], id=_INT, name=_STR, types=_TYPES,
                         region_code=_STR),
    "Me": _obj(["id", "email", "name", "role", "org"], id=_INT, email=_STR, name=_STR,
               role={**_STR, "enum": ["generator", "operator", "carrier", "lab", "regulator",
                                      "admin", "finance"]},
               org=_obj(["id", "name", "types", "region_code", "status"], id=_INT, name=_STR,
                        types=_TYPES, region_code=_STR,
                        status={**_STR, "enum": ["pending", "verified", "rejected", "suspended"]})),
    "Category": _obj(["category", "name", "name_en"], category={**_STR, "example": "HW08"},
                     name={**_STR, "description": "The official Chinese name"},
                     name_en={**_STR, "nullable": True,
                              "description": "English name (market/catalog/data/SOURCES.md)"}),
    "WasteCode": _obj(["code", "category", "industry", "description", "hazards", "sample"],
                      code={**_STR, "example": "900-214-08"}, category=_STR, industry=_STR,
                      description=_STR,
                      hazards={"type": "array", "items": {**_STR, "enum": ["T", "C", "I", "R", "In"]}},
                      sample={"type": "boolean"}),
    "Method": _obj(["code", "name", "name_en", "group", "group_name", "group_name_en"],
                   code={**_STR, "example": "R9"}, name={**_STR, "description": "Chinese"},
                   name_en={**_STR, "nullable": True,
                            "description": "English (Basel Convention Annex IV wording for R/D)"},
                   group=_STR, group_name=_STR, group_name_en={**_STR, "nullable": True}),
    "Region": _obj(["code", "name", "parent_code", "level"], code=_STR, name=_STR,
                   parent_code={**_STR, "nullable": True}, level=_INT),
}
for _name in ("Category", "WasteCode", "Method", "Region", "Organisation"):
    SCHEMAS[f"{_name}List"] = _list_of(_name)

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
RESPONSES = {
    "BadRequest": "The body is not a JSON object",
    "Unauthorized": "No token, or an unknown or expired one (or wrong credentials)",
    "Forbidden": "The user may not do this (regulators may not write)",
    "NotFound": "No such object, or not one the user may see",
    "Conflict": "The object's state forbids it, or the Idempotency-Key was used for another request",
    "ValidationFailed": "Bad input; `field` names it and `message` the rule",
    "RateLimited": "Too many requests: wait Retry-After seconds (see the rate limits above)",
}

PARAMETERS = {
    "cursor": ("query", {"description": "The `next` of the previous page",
                         "schema": {"type": "string"}}),
    "limit": ("query", {"description": "Items per page",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}),
    "IdempotencyKey": ("header", {"name": "Idempotency-Key", "schema": {"type": "string",
                                                                        "maxLength": 200},
                                  "description": "Repeat a write safely: the first response is "
                                                 "replayed with Idempotent-Replayed: true"}),
}


DESCRIPTION = """The hazardous-waste exchange. Amounts are integer fen, weights integer kg, dates ISO 8601.

**Rate limits.** Requests are counted per token in fixed windows (600 per 60 seconds unless the
operator configured `API_RATE_LIMIT` otherwise). Every authenticated response carries
`X-RateLimit-Limit` (requests per window), `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix
seconds when the window restarts). Past the limit the answer is `429` with code `rate_limited` and
`Retry-After` (seconds to wait).

**Change feeds.** The lists take `updated_after` (ISO 8601): the items created or changed since,
in commit order, each change once. Keep passing `updated_after` with the `cursor` of the previous
page; in a feed `next` is never null, and a page shorter than `limit` means you are up to date.

**Webhooks.** `POST /webhooks` registers an endpoint; deliveries are signed with
`Hazex-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. Verify it over the raw
body and reject a `t` more than 5 minutes old (replays); see docs/webhooks.md.
"""


def build_spec(app: Flask) -> dict:
    """The OpenAPI document of every route of the api blueprint."""
    spec = APISpec(title="Hazex API", version="1", openapi_version="3.0.3", plugins=[FlaskPlugin()],
                   info={"description": DESCRIPTION},
                   security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for name, description in RESPONSES.items():
        spec.components.response(name, {"description": description, "content": _ERROR})
    for name, (location, param) in PARAMETERS.items():
        spec.components.parameter(name, location, dict(param))
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.startswith(f"{bp.name}.") and rule.endpoint in app.view_functions:
            spec.path(view=app.view_functions[rule.endpoint], app=app)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi():
    """This description of the API.
    ---
    get:
      tags: [meta]
      summary: OpenAPI document
      security: []
      responses:
        200:
          description: OpenAPI 3.0.3
          content:
            application/json:
              schema: {type: object}
    """
    app = current_app._get_current_object()
    # Routes do not change while the app runs: build once.
    if "hazex_openapi" not in app.extensions:
        app.extensions["hazex_openapi"] = build_spec(app)
    return jsonify(app.extensions["hazex_openapi"])
