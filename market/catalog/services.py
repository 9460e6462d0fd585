"""Loading the catalog: reference tables and the official waste-code list."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from market import db
from market.audit.services import record
from market.catalog.importers import ParseResult, parse_waste_codes, read_csv_dicts
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode, WasteSynonym
from market.errors import ValidationFailed
from market.uow import transaction

DATA = Path(__file__).parent / "data"


def _upsert(model, rows: list[dict], key: str) -> None:
    if not rows:
        return
    stmt = insert(model).values(rows)
    cols = {c: stmt.excluded[c] for c in rows[0] if c != key}
    db.session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols))


def load_reference_data() -> dict[str, int]:
    """Load categories, method codes, regions, waste synonyms and the sample code list (idempotent)."""
    with transaction():
        cats = [{"code": r["category"], "name": r["name"], "name_en": r["name_en"]}
                for r in read_csv_dicts((DATA / "hw_categories.csv").read_text("utf-8"))]
        _upsert(WasteCategory, cats, "code")
        methods = [{"code": r["code"], "name": r["name"], "name_en": r["name_en"],
                    "group": r["group"], "group_name": r["group_name"],
                    "group_name_en": r["group_name_en"], "national": r["national"] == "yes"}
                   for r in read_csv_dicts((DATA / "disposal_methods.csv").read_text("utf-8"))]
        _upsert(DisposalMethod, methods, "code")
        regions = [{"code": r["code"], "name": r["name"], "parent_code": r["parent_code"] or None,
                    "level": int(r["level"])}
                   for r in read_csv_dicts((DATA / "regions.csv").read_text("utf-8"))]
        for i in range(0, len(regions), 1000):
            _upsert(Region, regions[i:i + 1000], "code")
        synonyms = [{"term": r["term"].strip().lower(), "lang": r["lang"], "category_code": r["category"],
                     "waste_code": r["waste_code"] or None}
                    for r in read_csv_dicts((DATA / "waste_synonyms.csv").read_text("utf-8"))]
        # The file is the whole table: a word removed from it leaves the search.
        db.session.execute(WasteSynonym.__table__.delete().where(
            WasteSynonym.term.not_in([r["term"] for r in synonyms])))
        _upsert(WasteSynonym, synonyms, "term")
    has_codes = db.session.scalar(select(WasteCode.code).limit(1))
    if not has_codes:
        import_waste_codes((DATA / "waste_codes_sample.csv").read_text("utf-8"), sample=True)
    return {"categories": len(cats), "methods": len(methods), "regions": len(regions),
            "synonyms": len(synonyms)}


def import_waste_codes(text: str, *, sample: bool = False) -> ParseResult:
    """Import an official waste-code list: all rows or none. Raises ValidationFailed listing bad lines."""
    known = set(db.session.scalars(select(WasteCategory.code)))
    result = parse_waste_codes(text, known)
    if not result.ok:
        lines = "\n".join(f"line {n}: {reason}" for n, reason in result.errors)
        raise ValidationFailed(f"{len(result.errors)} bad line(s), nothing imported:\n{lines}",
                               field="file")
    with transaction():
        _upsert(WasteCode, [{"code": r.code, "category_code": r.category, "industry": r.industry,
                             "description": r.description, "hazards": r.hazards,
                             "is_sample": sample} for r in result.rows], "code")
        if not sample:
            # An official list replaces the demo sample wholesale.
            db.session.execute(WasteCode.__table__.delete().where(
                WasteCode.is_sample.is_(True), WasteCode.code.not_in([r.code for r in result.rows])))
        record("catalog.codes_imported", object_type="waste_code",
               changes={"count": len(result.rows), "sample": sample})
    return result
