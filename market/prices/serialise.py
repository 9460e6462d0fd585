"""What a publication stores as JSON: the data-quality note, the index series, the outliers.
Decimals become strings (no float near a published number)."""
from __future__ import annotations

from pricing import DataQuality, IndexResult, Outlier


def quality_json(q: DataQuality) -> dict:
    return {"observations": q.observations, "excluded": dict(q.excluded), "kept": q.kept,
            "cells": q.cells, "published": q.published,
            "suppressed_primary": q.suppressed_primary,
            "suppressed_secondary": q.suppressed_secondary,
            "primary_by_rule": dict(q.primary_by_rule),
            "share_suppressed": str(q.share_suppressed)}


def index_json(index: IndexResult) -> dict:
    """{"laspeyres": {"HW49/*/*": {"reference": …, "points": [[period, level, matched,
    imputed], …]}}, "fisher": {…}}; a level is a string, or None when there is none."""
    out: dict = {}
    for formula, series in (("laspeyres", index.laspeyres), ("fisher", index.fisher)):
        out[formula] = {
            str(node): {"reference": s.reference,
                        "points": [[p.period, None if p.level is None else str(p.level),
                                    p.matched, p.imputed] for p in s.points]}
            for node, s in sorted(series.items())}
    return out


def outliers_json(outliers: tuple[Outlier, ...]) -> list:
    return [{"line_id": x.line_id, "cell": str(x.cell), "price": x.unit_price_fen_per_t,
             "cell_median": x.cell_median, "robust_z": str(x.robust_z), "scale": x.scale}
            for x in outliers]
