"""Parsing API input: JSON bodies and query strings, with errors that name the field and the rule.

Every helper raises before anything is written (DESIGN.md §4 rule 10): a 400 when the body is not
a JSON object at all, a 422 naming the field otherwise.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import request
from flask_babel import gettext as _

from market.errors import DomainError, ValidationFailed
from market.web.inputs import text_problem

_MISSING = object()
MAX_DEPTH = 32  # no endpoint takes more than a few levels


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


def json_body() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 bad_request."""
    # force: clients that forget the Content-Type still get their JSON read; silent: we answer
    # in our own error format instead of werkzeug's HTML.
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes: not a document we take
        raise BadRequest(_("The request body is nested too deeply.")) from None
    if not isinstance(body, dict):
        raise BadRequest(_("The request body must be a JSON object."))
    _check_text(body, "", 0)
    return body


def _check_text(value, path: str, depth: int) -> None:
    """Every string in the body, keys included, is text PostgreSQL can store (the web forms' rule).

    Checked once here, so no endpoint can forget it; the error names the value's path.
    """
    if depth > MAX_DEPTH:
        raise BadRequest(_("The request body is nested too deeply."))
    if isinstance(value, str):
        problem = text_problem(path, value)
        if problem:
            raise ValidationFailed(problem, field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            _check_text(key, inner, depth + 1)
            _check_text(item, inner, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_text(item, f"{path}[{i}]", depth + 1)


def _value(body: dict, name: str):
    value = body.get(name, _MISSING)
    return _MISSING if value is None else value


def _required(name: str) -> ValidationFailed:
    return ValidationFailed(_("%(field)s is required.", field=name), field=name)


def _no_nul(value: str, name: str) -> str:
    # PostgreSQL text cannot hold NUL or lone surrogates; refuse them here, the web forms' way,
    # rather than fail with a 500 in the query.
    problem = text_problem(name, value)
    if problem:
        raise ValidationFailed(problem, field=name)
    return value


def _check_str(value, name: str, max_len: int, min_len: int) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be a string.", field=name), field=name)
    _no_nul(value, name)
    value = value.strip()
    if len(value) < min_len:
        if min_len <= 1:
            raise _required(name)
        raise ValidationFailed(_("%(field)s must be at least %(n)d characters.", field=name, n=min_len),
                               field=name)
    if len(value) > max_len:
        raise ValidationFailed(_("%(field)s must be at most %(n)d characters.", field=name, n=max_len),
                               field=name)
    return value


def require_str(body: dict, name: str, max_len: int, *, min_len: int = 1, strip: bool = True) -> str:
    """A non-empty string of at most max_len characters (surrounding blanks removed)."""
    value = _value(body, name)
    if value is _MISSING:
        raise _required(name)
    if not strip and isinstance(value, str):
        # Passwords keep their blanks; only the length rule applies.
        _no_nul(value, name)
        if not value:
            raise _required(name)
        if len(value) > max_len:
            raise ValidationFailed(_("%(field)s must be at most %(n)d characters.", field=name,
                                     n=max_len), field=name)
        return value
    return _check_str(value, name, max_len, min_len)


def optional_str(body: dict, name: str, max_len: int) -> str | None:
    """A string of at most max_len characters, or None when absent, null or blank."""
    value = _value(body, name)
    if value is _MISSING:
        return None
    return _check_str(value, name, max_len, 0) or None


def _check_int(value, name: str, minimum: int, maximum: int) -> int:
    # bool is an int subclass in Python, and 1.0 or "1" are not whole numbers in JSON terms.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(_("%(field)s must be a whole number.", field=name), field=name)
    if not minimum <= value <= maximum:
        raise ValidationFailed(_("%(field)s must be between %(min)d and %(max)d.", field=name,
                                 min=minimum, max=maximum), field=name)
    return value


def require_int(body: dict, name: str, minimum: int, maximum: int) -> int:
    """A JSON integer (not a bool, float or string) within [minimum, maximum]."""
    value = _value(body, name)
    if value is _MISSING:
        raise _required(name)
    return _check_int(value, name, minimum, maximum)


def optional_int(body: dict, name: str, minimum: int, maximum: int) -> int | None:
    """Like require_int, but None when absent or null."""
    value = _value(body, name)
    return None if value is _MISSING else _check_int(value, name, minimum, maximum)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(_("%(field)s must be true or false.", field=name), field=name)
    return value


def require_bool(body: dict, name: str) -> bool:
    """A JSON true or false."""
    value = _value(body, name)
    if value is _MISSING:
        raise _required(name)
    return _check_bool(value, name)


def optional_bool(body: dict, name: str, default: bool = False) -> bool:
    """A JSON true or false, or the default when absent or null."""
    value = _value(body, name)
    return default if value is _MISSING else _check_bool(value, name)


def _check_date(value, name: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(_("%(field)s must be a date written YYYY-MM-DD (ISO 8601).", field=name),
                           field=name)


def require_date(body: dict, name: str) -> date:
    """An ISO 8601 calendar date, YYYY-MM-DD."""
    value = _value(body, name)
    if value is _MISSING:
        raise _required(name)
    return _check_date(value, name)


def optional_date(body: dict, name: str) -> date | None:
    """Like require_date, but None when absent or null."""
    value = _value(body, name)
    return None if value is _MISSING else _check_date(value, name)


def query_str(name: str, max_len: int) -> str | None:
    """A query-string parameter (blanks removed), or None when absent or empty."""
    value = _no_nul((request.args.get(name) or "").strip(), name)
    if len(value) > max_len:
        raise ValidationFailed(_("%(field)s must be at most %(n)d characters.", field=name, n=max_len),
                               field=name)
    return value or None


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole-number query-string parameter within [minimum, maximum], or the default."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 12:
        raise ValidationFailed(_("%(field)s must be a whole number.", field=name), field=name)
    return _check_int(int(raw), name, minimum, maximum)
