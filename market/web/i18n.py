"""Language negotiation and locale-aware formatting of money, weights and dates."""
from __future__ import annotations

from datetime import date as date_type
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property, lru_cache

from babel import Locale, support
from flask import Flask, current_app, has_app_context, request, session
from flask_babel import (Babel, Domain, format_date, format_datetime, format_decimal, get_locale,
                         gettext)
from flask_login import current_user


class CatalogueDomain(Domain):
    """Finds catalogues by the LANGUAGES code (translations/zh_CN/...).

    Babel canonicalises 'zh_CN' to zh_Hans_CN, and flask-babel looks the catalogue up by that name
    (then 'zh'), so translations/zh_CN was never found and Chinese pages rendered in English.
    """

    def get_translations(self):
        if not has_app_context() or get_locale() is None:
            return support.NullTranslations()
        code = language_code()
        key = (code, tuple(self.domain), tuple(self.translation_directories))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        translations = support.Translations()
        for index, dirname in enumerate(self.translation_directories):
            domain = self.domain[0] if len(self.domain) == 1 else self.domain[index]
            catalog = support.Translations.load(dirname, [code], domain)
            translations.merge(catalog)
            if hasattr(catalog, "plural"):
                translations.plural = catalog.plural
        self.cache[key] = translations
        return translations


class _Babel(Babel):
    @cached_property
    def domain_instance(self):
        return CatalogueDomain(domain=self.domain)


babel = _Babel()


def select_locale() -> str:
    """Explicit choice (session, then user), else the browser's Accept-Language."""
    langs = current_app.config["LANGUAGES"]
    chosen = session.get("locale") if request else None
    if chosen in langs:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
        return current_user.locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "zh-CN", "en"]) if request else None
    if best and best.startswith("zh"):
        return "zh_CN"
    if best == "en":
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def language_code() -> str:
    """The active language as one of the codes in LANGUAGES ('zh_CN' or 'en').

    Babel canonicalises 'zh_CN' to zh_Hans_CN, so str(get_locale()) never equals 'zh_CN'.
    """
    active = get_locale()
    if active is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return _code_for(str(active), tuple(current_app.config["LANGUAGES"]))


@lru_cache(maxsize=64)
def _code_for(locale_id: str, langs: tuple[str, ...]) -> str:
    active = Locale.parse(locale_id)
    for code in langs:
        if Locale.parse(code) == active:
            return code
    for code in langs:
        if Locale.parse(code).language == active.language:
            return code
    return locale_id


def money(fen: int | None) -> str:
    """¥ with two decimals from integer fen, grouped per locale."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    yuan = Decimal(abs(int(fen))) / 100
    return f"{sign}¥{format_decimal(yuan, format='#,##0.00')}"


def weight(kg: int | None) -> str:
    """Tonnes with three decimals from integer kilograms."""
    if kg is None:
        return "—"
    t = (Decimal(int(kg)) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    return f"{format_decimal(t, format='#,##0.000')} t"


# One date format per language: ISO in Chinese (2026-12-06), day month year in English (6 Dec 2026).
DATE_FORMATS = {"zh_CN": "yyyy-MM-dd", "en": "d MMM y"}
DATETIME_FORMATS = {"zh_CN": "yyyy-MM-dd HH:mm", "en": "d MMM y, HH:mm"}


def date(value, _style: str | None = None) -> str:
    """A date (or the date of a datetime, in the app's time zone) in the page language's format.

    The style argument of older templates (`|date('short')`) is accepted and ignored: one format
    per language, never 12/6/26.
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, str):  # an ISO date kept in JSON (contract terms, API-shaped dicts)
        try:
            value = date_type.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(value, DATE_FORMATS.get(language_code(), "yyyy-MM-dd"))
    return format_date(value, DATE_FORMATS.get(language_code(), "yyyy-MM-dd"))


def date_time(value, _style: str | None = None) -> str:
    """A moment in the app's time zone, to the minute, in the page language's format."""
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return date(value)
    return format_datetime(value, DATETIME_FORMATS.get(language_code(), "yyyy-MM-dd HH:mm"))


def label(code: str | None) -> str:
    """A status, role, operation or other code word in the page language, never the raw code.

    The words are listed in market/translations/runtime_msgids.py; a code without an entry (English
    is the source language, so its catalogue leaves most of them empty) is shown as words:
    'price_confirmed' → 'price confirmed'.
    """
    if code is None or code == "":
        return "—"
    text = gettext(str(code))
    if text == code:
        return str(code).replace("_", " ")
    return text


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path + "/translations"))
    app.jinja_env.filters.update(money=money, weight=weight, date=date, datetime=date_time,
                                 number=format_decimal, label=label)
    # Templates compare get_locale() with a LANGUAGES code ('zh_CN'), which Babel's Locale never
    # stringifies to; give them the code.
    app.jinja_env.globals.update(get_locale=language_code)
