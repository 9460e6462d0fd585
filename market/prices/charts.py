"""The data of the public page's charts, read by static/prices/charts.js from data-chart
attributes (no inline script). Every chart has a table beside it built from the same rows."""
from __future__ import annotations

from flask_babel import gettext as _

from market.prices import queries
from market.prices.models import PriceCell, PricePublication

METHOD_LABELS = {"R": "utilisation (R)", "D10": "incineration (D10)", "D1": "landfill (D1)",
                 "D9": "physico-chemical (D9)", "C1": "cement kiln (C1)", "other": "other methods",
                 "*": "all methods"}


def method_label(code: str) -> str:
    return _(METHOD_LABELS.get(code, code))


def yuan(fen: int | None) -> float | None:
    """Chart axis values in yuan per tonne (display only; tables show exact fen)."""
    return None if fen is None else round(fen / 100, 2)


def index_chart(pub: PricePublication) -> dict:
    las = queries.index_series("*/*/*", "laspeyres", pub)
    fis = dict(queries.index_series("*/*/*", "fisher", pub))
    return {"kind": "line", "title": _("Composite price index (2025 = 100)"),
            "x": [p for p, _lv in las], "unit": "",
            "series": [{"name": _("Chain-linked Laspeyres"), "data": [None if lv is None else float(lv) for _p, lv in las]},
                       {"name": _("Chained Fisher"), "data": [None if fis.get(p) is None else float(fis[p]) for p, _lv in las]}]}


def cells_chart(rows: list[PriceCell]) -> dict:
    shown = [c for c in rows if c.published and c.method != "*"]
    return {"kind": "bar", "title": _("Volume-weighted price by category and method (yuan/t)"),
            "x": [f"{c.category} {method_label(c.method)}" for c in shown], "unit": "¥/t",
            "series": [{"name": _("p10"), "data": [yuan(c.p10) for c in shown]},
                       {"name": _("VWAP"), "data": [yuan(c.vwap) for c in shown]},
                       {"name": _("p90"), "data": [yuan(c.p90) for c in shown]}]}


def trend(pub: PricePublication, categories: list[str], province: str) -> tuple[dict, list, dict]:
    """VWAP by month for each category (all methods): the chart, the months, the table rows."""
    table: dict[str, dict[str, PriceCell]] = {}
    months: set[str] = set()
    for cat in categories:
        hist = queries.cell_history(cat, "*", province, pub)
        table[cat] = {c.period: c for c in hist}
        months.update(table[cat])
    x = sorted(months)
    chart = {"kind": "line", "title": _("Monthly volume-weighted price by category (yuan/t)"),
             "x": x, "unit": "¥/t",
             "series": [{"name": cat, "data": [yuan(table[cat][m].vwap) if m in table[cat] and table[cat][m].published else None for m in x]}
                        for cat in categories]}
    return chart, x, table


def page_charts(pub: PricePublication, rows: list[PriceCell], province: str) -> dict:
    categories = sorted({c.category for c in rows})
    trend_chart, months, table = trend(pub, categories, province)
    return {"index": index_chart(pub), "cells": cells_chart(rows), "trend": trend_chart,
            "trend_months": months, "trend_table": table}
