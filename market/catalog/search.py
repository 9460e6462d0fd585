"""Finding a waste category or code from what a site manager types, and regions by name.

The waste search takes a code ("HW08", "900-249-08", "900-2"), a category name ("废矿物油"), words
of a code's description, or an everyday word from the synonyms table ("废机油", "paint cans") and
returns suggestions ranked so that an exact code, then an exact everyday word or category name,
come first, then partial matches.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from market import db
from market.catalog.models import Region, WasteCategory, WasteCode, WasteSynonym
from market.catalog.queries import region_path, regions

MAX_QUERY = 50
CATEGORY_RE = re.compile(r"^hw ?(\d{1,2})$")
CODE_PREFIX_RE = re.compile(r"^[\d-]{3,10}$")

# Ranks: higher first.
EXACT_CODE, EXACT_CATEGORY, EXACT_WORD, CATEGORY_NAME, WORD_IN_QUERY, PARTIAL_WORD, CODE_PREFIX, \
    NAME_PART, DESCRIPTION = 100, 95, 90, 85, 75, 70, 65, 60, 50


@dataclass
class Suggestion:
    category: str
    category_name: str
    code: str | None
    description: str
    matched: str  # the everyday word or name that matched, shown with the suggestion
    rank: int

    def json(self) -> dict:
        return {"category": self.category, "category_name": self.category_name, "code": self.code,
                "description": self.description, "matched": self.matched, "rank": self.rank}


def normalise(q: str | None) -> str:
    """What was typed, as compared: full-width forms folded (ＨＷ０８ → hw08), lower case, one space."""
    text = unicodedata.normalize("NFKC", q or "").strip().lower()
    return " ".join(text.split())[:MAX_QUERY]


def search_waste(q: str | None, limit: int = 10) -> list[Suggestion]:
    """Suggestions for what was typed, best first; empty for an empty query."""
    text = normalise(q)
    if not text:
        return []
    categories = list(db.session.scalars(select(WasteCategory)))
    cats = {c.code: c.name for c in categories}   # shown in the page language
    found: dict[tuple[str, str | None], Suggestion] = {}

    def add(category: str, code: WasteCode | None, matched: str, rank: int) -> None:
        if category not in cats:
            return
        key = (category, code.code if code else None)
        if key not in found or found[key].rank < rank:
            found[key] = Suggestion(category, cats[category], key[1],
                                    code.description if code else "", matched, rank)

    m = CATEGORY_RE.match(text)
    if m:
        category = f"HW{int(m.group(1)):02d}"
        add(category, None, category, EXACT_CATEGORY)
        for code in _codes(WasteCode.category_code == category):
            add(category, code, category, CODE_PREFIX)
    if CODE_PREFIX_RE.match(text):
        for code in _codes(WasteCode.code.startswith(text)):
            add(code.category_code, code, code.code, EXACT_CODE if code.code == text else CODE_PREFIX)
    codes_by_id = {}
    for word in db.session.scalars(select(WasteSynonym)):
        rank = EXACT_WORD if word.term == text else WORD_IN_QUERY if word.term in text \
            else PARTIAL_WORD if len(text) >= 2 and text in word.term else None
        if rank is None:
            continue
        add(word.category_code, None, word.term, rank - 1 if word.waste_code else rank)
        if word.waste_code:
            if word.waste_code not in codes_by_id:
                codes_by_id[word.waste_code] = db.session.get(WasteCode, word.waste_code)
            if codes_by_id[word.waste_code] is not None:
                add(word.category_code, codes_by_id[word.waste_code], word.term, rank)
    for c in categories:   # found by its name in either language, whatever the page's
        for name in filter(None, (c.name_zh, c.name_en)):
            if text == name.lower():
                add(c.code, None, name, CATEGORY_NAME)
            elif len(text) >= 2 and text in name.lower():
                add(c.code, None, name, NAME_PART)
    if len(text) >= 2:
        for code in _codes(WasteCode.description.ilike(f"%{_escape(text)}%", escape="\\")):
            add(code.category_code, code, code.code, DESCRIPTION)
    ranked = sorted(found.values(), key=lambda s: (-s.rank, s.category, s.code or ""))
    return ranked[:limit]


def _codes(condition) -> list[WasteCode]:
    return list(db.session.scalars(select(WasteCode).where(condition).order_by(WasteCode.code).limit(20)))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class RegionHit:
    code: str
    name: str
    level: int
    path: list[str]  # names, province first, ending with this region's name
    codes: list[str]  # their codes

    def json(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level, "path": self.path,
                "codes": self.codes, "label": " › ".join(self.path)}


def search_regions(q: str | None, limit: int = 20) -> list[RegionHit]:
    """Regions whose name holds the typed words (or whose code starts with typed digits).

    An exact name comes first, then names that start with it, then the rest; districts before
    cities before provinces at the same rank, since a pickup is in a district.
    """
    text = normalise(q)
    if not text:
        return []
    *others, word = text.split(" ")  # "深圳 南山": the last word names the region, the others its parents
    if word.isdigit():
        cond = Region.code.startswith(word)
    else:
        cond = Region.name.ilike(f"%{_escape(word)}%", escape="\\")
    rank = func.coalesce(func.nullif(func.strpos(Region.name, word), 0), 99)
    rows = list(db.session.scalars(select(Region).where(cond)
                                   .order_by(rank, Region.level.desc(), Region.code).limit(200)))
    names = _ancestor_names(rows)
    hits = [RegionHit(r.code, r.name, r.level, *names(r)) for r in rows]
    if others:
        hits = [h for h in hits if all(any(w in n for n in h.path[:-1]) for w in others)]
    return hits[:limit]


def _ancestor_names(rows: list[Region]):
    parents = {r.parent_code for r in rows if r.parent_code}
    grand = {}
    if parents:
        grand = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(parents)))}
        more = {r.parent_code for r in grand.values() if r.parent_code} - set(grand)
        if more:
            grand.update({r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(more)))})

    def names(r: Region) -> tuple[list[str], list[str]]:
        out, codes, cur = [r.name], [r.code], r
        while cur.parent_code and cur.parent_code in grand:
            cur = grand[cur.parent_code]
            out.insert(0, cur.name)
            codes.insert(0, cur.code)
        return out, codes
    return names


def picker(code: str | None) -> dict:
    """What the region picker shows for a chosen code: the three levels' options and choices.

    levels[i] is (options, chosen) for province, the province's children, the city's children.
    """
    code = (code or "").strip()
    path = region_path(code) if len(code) == 6 and code.isdigit() else []
    levels = [(regions(None), path[0].code if path else "")]
    levels.append((regions(path[0].code), path[1].code if len(path) > 1 else "") if path else ([], ""))
    levels.append((regions(path[1].code), path[2].code if len(path) > 2 else "")
                  if len(path) > 1 else ([], ""))
    return {"levels": levels, "path": [p.name for p in path], "code": path[-1].code if path else code,
            "known": bool(path)}
