"""API routes of the catalog and the organisation directory (read-only lists)."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from market.accounts.models import ORG_TYPES
from market.api import bp, queries
from market.api.pagination import list_body, page_request
from market.api.parsing import query_str
from market.api.views import org_json
from market.errors import ValidationFailed


def _digits(name: str, value: str | None, lengths: tuple[int, ...], rule: str) -> str | None:
    if value is not None and not (value.isascii() and value.isdigit() and len(value) in lengths):
        raise ValidationFailed(rule, field=name)
    return value


@bp.get("/catalog/categories")
def catalog_categories():
    """The HW categories of the National Hazardous Waste List.
    ---
    get:
      tags: [catalog]
      summary: Waste categories
      parameters:
        - cursor
        - limit
      responses:
        200:
          description: Categories by code
          content:
            application/json:
              schema: {$ref: '#/components/schemas/CategoryList'}
        401: Unauthorized
        422: ValidationFailed
    """
    page = queries.categories(page_request(queries.CATEGORY_KEYS))
    return jsonify(list_body(page, lambda c: {"category": c.code, "name": c.name_zh,
                                              "name_en": c.name_en}))


@bp.get("/catalog/codes")
def catalog_codes():
    """Waste codes, optionally searched.
    ---
    get:
      tags: [catalog]
      summary: Waste codes
      parameters:
        - name: q
          in: query
          description: Part of the code, category (HW08) or description, any case
          schema: {type: string, maxLength: 100}
        - cursor
        - limit
      responses:
        200:
          description: Matching codes by code; `sample` marks the demo sample list
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WasteCodeList'}
        401: Unauthorized
        422: ValidationFailed
    """
    q = query_str("q", 100)
    page = queries.codes(q, page_request(queries.CODE_KEYS))
    return jsonify(list_body(page, lambda c: {
        "code": c.code, "category": c.category_code, "industry": c.industry,
        "description": c.description, "hazards": list(c.hazards or []), "sample": c.is_sample}))


@bp.get("/catalog/methods")
def catalog_methods():
    """Utilisation and disposal method codes.
    ---
    get:
      tags: [catalog]
      summary: Method codes
      parameters:
        - cursor
        - limit
      responses:
        200:
          description: Method codes by group (R, D, C) then code
          content:
            application/json:
              schema: {$ref: '#/components/schemas/MethodList'}
        401: Unauthorized
        422: ValidationFailed
    """
    page = queries.methods(page_request(queries.METHOD_KEYS))
    return jsonify(list_body(page, lambda m: {"code": m.code, "name": m.name_zh,
                                              "name_en": m.name_en, "group": m.group,
                                              "group_name": m.group_name_zh,
                                              "group_name_en": m.group_name_en}))


@bp.get("/catalog/regions")
def catalog_regions():
    """Administrative regions (GB/T 2260), one level at a time.
    ---
    get:
      tags: [catalog]
      summary: Regions
      parameters:
        - name: parent
          in: query
          description: A region code; its children are listed. Without it, the provinces.
          schema: {type: string, pattern: '^[0-9]{6}$'}
        - cursor
        - limit
      responses:
        200:
          description: Regions by code
          content:
            application/json:
              schema: {$ref: '#/components/schemas/RegionList'}
        401: Unauthorized
        404: NotFound
        422: ValidationFailed
    """
    parent = _digits("parent", query_str("parent", 50), (6,),
                     _("%(field)s must be a region code of 6 digits.", field="parent"))
    page = queries.regions(parent, page_request(queries.REGION_KEYS))
    return jsonify(list_body(page, lambda r: {"code": r.code, "name": r.name,
                                              "parent_code": r.parent_code, "level": r.level}))


@bp.get("/organisations")
def organisations():
    """The directory of verified organisations.
    ---
    get:
      tags: [organisations]
      summary: Organisation directory
      description: >
        Verified enterprises only; pending, rejected or suspended organisations,
        regulators and the platform are never listed.
      parameters:
        - name: type
          in: query
          schema: {type: string, enum: [generator, operator, carrier, lab]}
        - name: region
          in: query
          description: Region-code prefix, e.g. 44 (Guangdong) or 4403 (Shenzhen)
          schema: {type: string, pattern: '^[0-9]{1,6}$'}
        - cursor
        - limit
      responses:
        200:
          description: Organisations by id
          content:
            application/json:
              schema: {$ref: '#/components/schemas/OrganisationList'}
        401: Unauthorized
        422: ValidationFailed
    """
    org_type = query_str("type", 50)
    if org_type is not None and org_type not in ORG_TYPES:
        raise ValidationFailed(_("%(field)s must be one of %(choices)s.", field="type",
                                 choices=", ".join(ORG_TYPES)), field="type")
    region = _digits("region", query_str("region", 50), (1, 2, 3, 4, 5, 6),
                     _("%(field)s must be a region-code prefix of 1 to 6 digits.", field="region"))
    page = queries.directory(org_type, region, page_request(queries.ORGANISATION_KEYS))
    return jsonify(list_body(page, org_json))
