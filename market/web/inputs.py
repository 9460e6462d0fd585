"""One normalisation layer for every web form and query string (the API's is market/api/parsing.py).

Before any view runs, every query parameter, form field and upload file name is checked for what
PostgreSQL, the templates or the response headers cannot take: NUL and other control characters,
lone surrogates, absurd lengths. Numbers typed into forms are checked by the base form
(market.web.forms.Form); ids in paths by the bounded `int` converter here. Each refusal is a 422
naming the field, in the user's language, before anything is read or written.
"""
from __future__ import annotations

import re

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from market.errors import ValidationFailed

# Every id column is a PostgreSQL integer; a larger id can name no row.
MAX_ID = 2**31 - 1
MAX_QUERY_CHARS = 2_000
MAX_FORM_CHARS = 20_000
MAX_NAME_CHARS = 200
# C0 controls other than tab, line feed and carriage return; DEL; lone UTF-16 surrogates.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
LINE_BREAK = re.compile("[\r\n\u2028\u2029\x85]")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in routes: a whole number no larger than any stored id (else the route is a 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def text_problem(name: str, value: str, *, single_line: bool = False) -> str | None:
    """Why this named text cannot be stored or shown, in the user's language; None when it can."""
    if _BAD_TEXT.search(value):
        return _("%(field)s must not contain control characters or invalid characters.", field=name)
    if single_line and LINE_BREAK.search(value):
        return _("%(field)s must be on one line.", field=name)
    return None


def check_value(name: str, value: str, max_chars: int, *, single_line: bool = False) -> None:
    """Refuse one named value with a 422 that names it."""
    if len(name) > MAX_NAME_CHARS or text_problem(name, name, single_line=True):
        raise ValidationFailed(_("A field name is too long or holds invalid characters."))
    problem = text_problem(name, value, single_line=single_line)
    if problem is None and len(value) > max_chars:
        problem = _("%(field)s must be at most %(n)d characters.", field=name, n=max_chars)
    if problem:
        raise ValidationFailed(problem, field=name)


def whole_number(raw: str | None, name: str, maximum: int = MAX_ID) -> int | None:
    """Typed text as a whole number in [0, maximum] (ASCII digits only); None when blank; else a 422."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > maximum:
        raise ValidationFailed(_("%(field)s must be a whole number.", field=name), field=name)
    return int(raw)


def arg_int(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole-number query parameter, or None when absent."""
    return whole_number(request.args.get(name), name, maximum)


def form_int(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole-number form field outside any form class (a button's hidden id), or None."""
    return whole_number(request.form.get(name), name, maximum)


def check_request_inputs() -> None:
    """The before_request hook: query string, form fields and upload file names."""
    for name, value in request.args.items(multi=True):
        check_value(name, value, MAX_QUERY_CHARS, single_line=True)
    if request.method in ("GET", "HEAD", "OPTIONS") or request.is_json:
        return
    for name, value in request.form.items(multi=True):
        check_value(name, value, MAX_FORM_CHARS)
    for name, upload in request.files.items(multi=True):
        # file names end up in Content-Disposition headers and on disk
        check_value(name, upload.filename or "", MAX_NAME_CHARS, single_line=True)


def init_app(app: Flask) -> None:
    """Install the bounded id converter (before any route is added) and the input check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request_inputs)
