"""Notification text as a message key and parameters, rendered in the reader's language.

A notification stores the English msgid and its parameters as JSON; the inbox page, the API and
the e-mail render them with gettext in the language of whoever reads them. Parameters whose
wording depends on the language are stored raw with their kind and formatted at read time:

    message("%(amount)s of order %(number)s was released to you.",
            amount=as_money(r.payee_fen), number=order.number)

as_money(fen) → ¥1,234.56; as_date(d) → 2026-12-06 / 6 Dec 2026; as_kg(n) → 1,234;
as_word(code) → a status, role or document word, translated (runtime_msgids.py lists them).
verbatim(text) is text a person typed (a reason, a note): shown as it was written.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_decimal, gettext

from market.web import i18n

KINDS = ("fen", "date", "kg", "word")


class Message:
    """A msgid and its JSON-able parameters; msgid None means verbatim text in params['text']."""
    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str | None, params: dict[str, Any]):
        self.msgid, self.params = msgid, params

    def render(self) -> str:
        """The text in the active language."""
        return render(self.msgid, self.params)

    def render_in(self, locale: str | None) -> str:
        """The text in this language (a user's saved choice; None: the platform default)."""
        with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            return self.render()

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.msgid, self.params) == (other.msgid, other.params)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"


def message(msgid: str, **params) -> Message:
    """A translatable text; params are str, int or the typed values as_money/as_date/as_kg/as_word."""
    if not isinstance(msgid, str) or not msgid:
        raise TypeError("message() takes the English msgid as a non-empty str")
    for name, value in params.items():
        _check(name, value)
    return Message(msgid, dict(params))


def verbatim(text: str | None) -> Message:
    """Text a person wrote (a reason, a note), shown in every language as written."""
    return Message(None, {"text": str(text or "")})


def as_money(fen: int | None) -> dict:
    return {"fen": None if fen is None else int(fen)}


def as_date(value: date) -> dict:
    if isinstance(value, datetime):
        value = value.date()
    return {"date": value.isoformat()}


def as_kg(value: int) -> dict:
    return {"kg": int(value)}


def as_word(code: str) -> dict:
    return {"word": str(code)}


def _check(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
        raise TypeError(f"message parameter {name!r} must be str, int or "
                        f"as_money()/as_date()/as_kg()/as_word(), not {type(value).__name__}")
    if isinstance(value, dict) and (len(value) != 1 or next(iter(value)) not in KINDS):
        raise TypeError(f"message parameter {name!r} is not one of "
                        "as_money()/as_date()/as_kg()/as_word()")


def _shown(value) -> Any:
    if not isinstance(value, dict):
        return value
    (kind, raw), = value.items()
    if kind == "fen":
        return i18n.money(raw)
    if kind == "date":
        return i18n.date(date.fromisoformat(raw))
    if kind == "kg":
        return format_decimal(raw)
    return i18n.label(raw)


def render(msgid: str | None, params: dict | None) -> str:
    params = params or {}
    if msgid is None:
        return str(params.get("text", ""))
    text = gettext(msgid)
    if not params:
        return text
    values = {name: _shown(value) for name, value in params.items()}
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        # a catalogue entry out of step with the stored parameters: the English, never an error
        return msgid % values
