"""Catalog look-ups for the pages' inputs: the region picker and the waste search (JSON), and
the template helpers that draw them without JavaScript.

The region endpoint is public: the registration form uses the picker before anyone has logged in.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import login_required
from flask_babel import gettext as _

from market.catalog import queries, search
from market.errors import ValidationFailed

bp = Blueprint("catalog", __name__)

MAX_LIMIT = 50


def _limit() -> int:
    raw = (request.args.get("limit") or "").strip()
    if not raw:
        return 20
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(_("%(field)s must be a whole number from 1 to %(max)d.", field="limit",
                                 max=MAX_LIMIT), field="limit")
    return int(raw)


def _query() -> str:
    q = request.args.get("q", "")
    if len(q) > search.MAX_QUERY:
        raise ValidationFailed(_("Type at most %(n)d characters to search.", n=search.MAX_QUERY),
                               field="q")
    return q


@bp.get("/catalog/regions")
def regions():
    """?parent=440000: the region's children; ?q=南山: regions by name; neither: the provinces."""
    parent = request.args.get("parent")
    limit = _limit()
    if parent is not None and request.args.get("q") is not None:
        raise ValidationFailed(_("Give either parent or q, not both."), field="q")
    if parent is not None:
        parent = parent.strip()
        if not (parent.isascii() and parent.isdigit() and len(parent) == 6):
            raise ValidationFailed(_("%(field)s must be a region code of 6 digits, e.g. 440300.",
                                     field="parent"), field="parent")
        if queries.region(parent) is None:
            raise ValidationFailed(_("Region code %(code)s is not in the region table; choose a province "
                                     "from the list.", code=parent), field="parent")
        rows = queries.regions(parent)
        return jsonify({"regions": [{"code": r.code, "name": r.name, "level": r.level} for r in rows]})
    if request.args.get("q") is not None:
        q = _query()
        if not search.normalise(q):
            raise ValidationFailed(_("Type part of a region's name, e.g. 南山, to search."), field="q")
        return jsonify({"regions": [h.json() for h in search.search_regions(q, limit)]})
    return jsonify({"regions": [{"code": r.code, "name": r.name, "level": r.level}
                                for r in queries.regions(None)]})


@bp.get("/catalog/waste")
@login_required
def waste():
    """?q=废机油: categories and codes for a code, a name or an everyday word, best first."""
    q, limit = _query(), _limit()
    # an empty box suggests nothing (as the page's search does), it is not an error
    return jsonify({"results": [s.json() for s in search.search_waste(q, limit)]})


@bp.app_template_global()
def region_picker(code: str | None) -> dict:
    """The region picker's levels for a chosen code (templates/_forms.html draws it)."""
    return search.picker(code)


@bp.app_template_global()
def waste_suggestions(q: str | None) -> list:
    """The waste search's suggestions, for the page drawn without JavaScript."""
    return search.search_waste(q)


@bp.app_template_global()
def region_label(code: str | None) -> str:
    """A region code with its names, e.g. "广东省 › 深圳市 › 南山区 (440305)"."""
    path = queries.region_path(code) if code else []
    return f"{' › '.join(r.name for r in path)} ({path[-1].code})" if path else (code or "")
