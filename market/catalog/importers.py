"""Pure parsing and validation of the catalog's CSV files (no database)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

CODE_RE = re.compile(r"^\d{3}-\d{3}-\d{2}$")
CATEGORY_RE = re.compile(r"^HW\d{2}$")
HAZARDS = {"T", "C", "I", "R", "In"}
CODE_COLUMNS = ["category", "industry", "code", "description", "hazard"]


@dataclass
class CodeRow:
    category: str
    industry: str
    code: str
    description: str
    hazards: list[str]


@dataclass
class ParseResult:
    rows: list[CodeRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_waste_codes(text: str, known_categories: set[str]) -> ParseResult:
    """Validate an official waste-code list; every bad line is reported with its number."""
    result = ParseResult()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != CODE_COLUMNS:
        result.errors.append((1, f"header must be {','.join(CODE_COLUMNS)}"))
        return result
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) != len(CODE_COLUMNS):
            result.errors.append((lineno, f"expected {len(CODE_COLUMNS)} columns, found {len(raw)}"))
            continue
        category, industry, code, description, hazard = (c.strip() for c in raw)
        reasons = []
        if not CATEGORY_RE.match(category):
            reasons.append(f"category {category!r} is not of the form HWnn")
        elif category not in known_categories:
            reasons.append(f"category {category} is not in the category table")
        if not CODE_RE.match(code):
            reasons.append(f"code {code!r} is not of the form NNN-NNN-NN")
        elif CATEGORY_RE.match(category) and code[-2:] != category[2:]:
            reasons.append(f"code {code} ends in {code[-2:]} but its category is {category}")
        hazards = [h.strip() for h in hazard.split("/") if h.strip()]
        bad = [h for h in hazards if h not in HAZARDS]
        if not hazards:
            reasons.append("hazard is empty; use letters from T, C, I, R, In joined by /")
        elif bad:
            reasons.append(f"hazard {'/'.join(bad)} not in T, C, I, R, In")
        if not description:
            reasons.append("description is empty")
        if code in seen:
            reasons.append(f"code {code} repeats line {seen[code]}")
        if reasons:
            result.errors.append((lineno, "; ".join(reasons)))
            continue
        seen[code] = lineno
        result.rows.append(CodeRow(category, industry, code, description, hazards))
    if not result.rows and not result.errors:
        result.errors.append((1, "the file holds no codes"))
    return result


def read_csv_dicts(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
