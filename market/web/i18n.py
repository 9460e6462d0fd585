"""Language negotiation and locale-aware formatting of money, weights and dates."""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from flask import Flask, current_app, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

babel = Babel()


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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path + "/translations"))
    app.jinja_env.filters.update(money=money, weight=weight, date=format_date,
                                 datetime=format_datetime, number=format_decimal)
    app.jinja_env.globals.update(get_locale=get_locale)
