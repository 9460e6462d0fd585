"""API routes of the price index: the public prices (no token) and the regulator's index of its
province (DESIGN.md §7, §9)."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from market.api import bp
from market.api.auth import api_user
from market.api.openapi import SCHEMAS
from market.errors import NotFound, PermissionDenied
from market.prices import public
from market.region_scope import province_of

_CELL = {"type": "object", "required": ["period", "category", "method", "region", "status"],
         "properties": {
             "period": {"type": "string", "example": "2026-03"},
             "category": {"type": "string", "example": "HW49"},
             "method": {"type": "string", "enum": list(public.METHODS) + ["*"]},
             "region": {"type": "string", "description": "Province (2 digits) or * (national)"},
             "status": {"type": "string", "enum": ["published", "insufficient_data"]},
             **{k: {"type": "integer", "description": "fen per tonne; kg for kg"}
                for k in public.NUMBERS},
             "nearest_published": {"type": "string", "nullable": True}}}
_RELEASE = {"type": "object", "required": ["month", "version", "label", "release", "revised"],
            "properties": {"month": {"type": "string"}, "version": {"type": "integer"},
                           "label": {"type": "string", "example": "2026-03 v2r"},
                           "release": {"type": "string", "enum": ["preliminary", "final"]},
                           "revised": {"type": "boolean"},
                           "published_at": {"type": "string", "format": "date-time"},
                           "methodology_version": {"type": "string"},
                           "params_hash": {"type": "string"}, "inputs_hash": {"type": "string"},
                           "quality": {"type": "object"}}}
_POINT = {"type": "object", "properties": {"period": {"type": "string"},
                                           "level": {"type": "string", "nullable": True}}}
SCHEMAS["PriceCell"] = _CELL
SCHEMAS["PriceRelease"] = _RELEASE
SCHEMAS["Prices"] = {"type": "object", "required": ["release", "cells", "index"], "properties": {
    "release": {"$ref": "#/components/schemas/PriceRelease"},
    "cells": {"type": "array", "items": {"$ref": "#/components/schemas/PriceCell"}},
    "index": {"type": "object", "properties": {
        "laspeyres": {"type": "array", "items": _POINT},
        "fisher": {"type": "array", "items": _POINT}}}}}
SCHEMAS["RegulatorIndex"] = {"allOf": [{"$ref": "#/components/schemas/Prices"}, {
    "type": "object", "properties": {"outliers": {"type": "array", "items": {"type": "object"}}}}]}


def _body(pub, f: public.Filters) -> dict:
    return {"release": public.release_json(pub),
            "cells": [public.cell_json(c) for c in public.cells(pub, f)],
            "index": public.series_json(pub, f"{f.category}/*/*" if f.category else "*/*/*")}


@bp.get("/prices")
def prices():
    """The published price index: a release's cells and the composite series.
    ---
    get:
      tags: [prices]
      summary: Published prices (public, no token)
      description: >
        The latest release (or `month`, and `version` for an earlier version) of the settled-price
        index: the cells of its reference month filtered by `category`, `method` (a method
        group or `*` for all methods) and `province` (two digits or `*` for national). Suppressed
        cells say `insufficient_data` and name their nearest published roll-up. Prices are
        integer fen per tonne, weights kg.
      security: []
      parameters:
        - {name: month, in: query, schema: {type: string, example: "2026-03"}}
        - {name: version, in: query, schema: {type: integer, minimum: 1}}
        - {name: category, in: query, schema: {type: string, example: HW49}}
        - {name: method, in: query, schema: {type: string}}
        - {name: province, in: query, schema: {type: string, example: "44"}}
      responses:
        200:
          description: The release
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Prices'}
        404: NotFound
        422: ValidationFailed
    """
    f = public.parse_filters(request.args)
    return jsonify(_body(public.release_for(f), f))


@bp.get("/regulator/index")
def regulator_index():
    """The index of the regulator's province, with the outliers listed for regulators.
    ---
    get:
      tags: [prices, regulator]
      summary: The price index of the regulator's province
      description: >
        For regulators only, scoped by the one region rule: the province defaults to the
        regulator's and another province is not found. Adds the release's robust-z outliers in
        that province (line ids and prices) to what GET /prices shows.
      parameters:
        - {name: month, in: query, schema: {type: string, example: "2026-03"}}
        - {name: category, in: query, schema: {type: string, example: HW49}}
        - {name: province, in: query, schema: {type: string, example: "44"}}
      responses:
        200:
          description: The release for the province
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RegulatorIndex'}
        401: Unauthorized
        403: Forbidden
        404: NotFound
        422: ValidationFailed
    """
    user = api_user()
    if not user.is_regulator:
        raise PermissionDenied(_("This is for regulators."))
    f = public.parse_filters({k: v for k, v in request.args.items() if k != "version"})
    own = province_of(user.org.scope_prefix)
    province = f.province or own or "*"
    if own and province != own:
        raise NotFound(_("No release of the price index for that province."))
    f = public.Filters(month=f.month, category=f.category, province=province)
    pub = public.release_for(f)
    body = _body(pub, f)
    body["outliers"] = [x for x in pub.outliers
                        if province == "*" or x["cell"].split("/")[3] == province]
    return jsonify(body)
