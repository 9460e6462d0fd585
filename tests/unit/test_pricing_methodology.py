"""pricing/METHODOLOGY.md: the worked example's numbers, recomputed from the document's own tables."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import ALL, TOTAL, CellKey, MethodGroup, Observation, compute

DOC = Path(__file__).resolve().parents[2] / "pricing" / "METHODOLOGY.md"


def table(name: str) -> list[list[str]]:
    """The rows of the Markdown table after `<!-- example:name -->`, header and rule dropped."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"<!-- example:{name} -->")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[2:]


def observations() -> list[Observation]:
    out = []
    for line, month, method, operator, group, generator, kg, price in table("observations"):
        out.append(Observation(
            line_id=int(line), month=date(int(month[:4]), int(month[5:]), 1), category="HW49",
            waste_code=None, method_group=MethodGroup(method), province="44", city="4403",
            operator_id=int(operator), operator_group_id=None if group == "—" else int(group),
            generator_id=int(generator), accepted_kg=int(kg), unit_price_fen_per_t=int(price)))
    return out


@pytest.fixture(scope="module")
def result():
    return compute(observations())


def status(d) -> str:
    if d.published:
        return "published"
    if d.primary:
        return "primary: " + ", ".join(d.primary)
    return f"secondary ({d.secondary[0]})"


def test_the_example_has_its_33_lines():
    assert len(observations()) == 33


def test_every_cell_of_the_table(result):
    rows = table("cells")
    assert len(rows) == 14
    for key_text, trades, contributors, generators, kg, *prices, outliers, state in rows:
        key = CellKey(*key_text.split("/"))
        s, d = result.stats[key], result.disclosure[key]
        assert (s.trades, s.operator_groups, s.generators, s.kg) == \
            (int(trades), int(contributors), int(generators), int(kg)), key_text
        assert [s.vwap, s.median, s.p10, s.p25, s.p75, s.p90] == [int(p) for p in prices], key_text
        assert (s.outliers, status(d)) == (int(outliers), state), key_text
        # the national cells equal the province's and share its status
        national = result.stats[key._replace(region=ALL)]
        assert replace(national, key=key) == s
        assert result.disclosure[key._replace(region=ALL)].published == d.published
    assert len(result.stats) == 28


def test_the_outlier_and_the_nearest_roll_up(result):
    (x,) = result.outliers
    assert (x.line_id, x.cell_median, x.robust_z, x.scale) == (6, 305000, Decimal("10.12"), "mad")
    assert result.disclosure[CellKey("2025-03", "HW49", "D1", "44")].nearest_published == \
        CellKey("2025-03", "HW49", ALL, "44")


def test_the_index_table(result):
    rows = table("index")
    las, fis = result.index.laspeyres[TOTAL].points, result.index.fisher[TOTAL].points
    assert [[p.period, str(p.level), str(f.level), str(p.matched), str(p.imputed)]
            for p, f in zip(las, fis)] == rows
    assert {(i.period, i.aggregate.method) for i in result.index.imputations} == \
        {("2025-02", "D9"), ("2025-03", "D1"), ("2025-03", "D9")}


def test_the_numbers_quoted_in_the_text(result):
    text = DOC.read_text(encoding="utf-8")
    weights = {e.method: share for e, share in result.index.weights[2025].items()}
    revenue = {m: sum(s.price_kg for k, s in result.stats.items()
                      if k.is_base and k.method == m) // 1000 for m in ("D10", "D1", "D9")}
    assert revenue == {"D10": 38_720_000, "D1": 9_810_000, "D9": 1_020_000}
    assert weights["D10"] * sum(revenue.values()) == revenue["D10"]
    for m, value in revenue.items():
        assert f"{m} {value:,}".replace(",", " ") in text
    q = result.quality
    assert f"{q.observations} lines in, {q.excluded['outlier']} excluded as an outlier, " \
           f"{q.kept} kept; {q.cells} cells" in text
    assert f"{q.published} published, {q.suppressed_primary} suppressed by primary and " \
           f"{q.suppressed_secondary} by secondary" in text
    assert f"({q.share_suppressed * 100:.1f} % suppressed)" in text
    assert re.search(r"Methodology version \*\*1\.0\*\*", text) and result.methodology_version == "1.0"
