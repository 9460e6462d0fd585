"""What the index is built from: one settled disposal line (DESIGN.md §7).

Pure standard library. An :class:`Observation` is validated when it is made, so every later step
can trust it: integer kilograms (> 0) and integer fen per tonne (negative allowed — the operator
pays for valuable waste such as waste mineral oil).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class MethodGroup(StrEnum):
    """The method groups of the index. The value is the stable code stored and hashed."""

    UTILISATION = "R"        # 利用: every R* code
    INCINERATION = "D10"     # 焚烧
    LANDFILL = "D1"          # 填埋
    PHYSICO_CHEMICAL = "D9"  # 物化
    CEMENT_KILN = "C1"       # 水泥窑协同处置
    OTHER = "other"          # D16, C2, C3, Y* and any code not above

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_LABELS_ZH = {
    MethodGroup.UTILISATION: "利用", MethodGroup.INCINERATION: "焚烧", MethodGroup.LANDFILL: "填埋",
    MethodGroup.PHYSICO_CHEMICAL: "物化", MethodGroup.CEMENT_KILN: "水泥窑", MethodGroup.OTHER: "其他",
}
_EXACT = {"D10": MethodGroup.INCINERATION, "D1": MethodGroup.LANDFILL,
          "D9": MethodGroup.PHYSICO_CHEMICAL, "C1": MethodGroup.CEMENT_KILN}


def method_group_of(method_code: str) -> MethodGroup:
    """The group of a disposal method code: R* → 利用; D10, D1, D9, C1 exactly; anything else other.

    >>> method_group_of("R9"), method_group_of("D10"), method_group_of("D16")
    (<MethodGroup.UTILISATION: 'R'>, <MethodGroup.INCINERATION: 'D10'>, <MethodGroup.OTHER: 'other'>)
    """
    code = method_code.strip().upper()
    if re.fullmatch(r"R\d+", code):
        return MethodGroup.UTILISATION
    return _EXACT.get(code, MethodGroup.OTHER)


_CATEGORY = re.compile(r"HW\d{2}")
_WASTE_CODE = re.compile(r"\d{3}-\d{3}-\d{2}")


def _is_int(value: object) -> bool:
    return type(value) is int  # bool is not a quantity


@dataclass(frozen=True, slots=True)
class Observation:
    """One settled disposal line.

    ``month`` is the month of receipt (any day of it; kept as the first day). ``province`` is the
    2-digit and ``city`` the 4-digit GB/T 2260 prefix of the generator's region.
    ``operator_group_id`` names the operator's corporate group; None means the operator stands
    alone. ``unit_price_fen_per_t`` may be negative (the operator pays).
    """

    line_id: int
    month: date
    category: str
    waste_code: str | None
    method_group: MethodGroup
    province: str
    city: str
    operator_id: int
    operator_group_id: int | None
    generator_id: int
    accepted_kg: int
    unit_price_fen_per_t: int

    def __post_init__(self) -> None:
        if not isinstance(self.month, date):
            raise TypeError("month must be a date")
        if self.month.day != 1:
            object.__setattr__(self, "month", self.month.replace(day=1))
        object.__setattr__(self, "method_group", MethodGroup(self.method_group))
        problems = []
        if not _CATEGORY.fullmatch(self.category):
            problems.append("category (HWnn)")
        if self.waste_code is not None and not _WASTE_CODE.fullmatch(self.waste_code):
            problems.append("waste_code (NNN-NNN-NN)")
        if self.waste_code is not None and not self.waste_code.endswith(self.category[2:]):
            problems.append("waste_code (last two digits name the category)")
        if not re.fullmatch(r"\d{2}", self.province):
            problems.append("province (2 digits)")
        if not (re.fullmatch(r"\d{4}", self.city) and self.city.startswith(self.province)):
            problems.append("city (4 digits inside the province)")
        if not _is_int(self.accepted_kg) or self.accepted_kg <= 0:
            problems.append("accepted_kg (integer > 0)")
        if not _is_int(self.unit_price_fen_per_t):
            problems.append("unit_price_fen_per_t (integer)")
        for name in ("operator_id", "generator_id"):
            if not _is_int(getattr(self, name)):
                problems.append(f"{name} (integer)")
        if self.operator_group_id is not None and not _is_int(self.operator_group_id):
            problems.append("operator_group_id (integer or None)")
        if problems:
            raise ValueError(f"observation {self.line_id}: bad " + ", ".join(problems))

    @property
    def contributor(self) -> tuple[str, int]:
        """Who the disclosure rules protect: the corporate group, or the operator standing alone."""
        if self.operator_group_id is None:
            return ("operator", self.operator_id)
        return ("group", self.operator_group_id)

    @property
    def price_kg(self) -> int:
        """unit price × kg: the exact revenue in fen × 1000 (tonne-kilogram scale)."""
        return self.unit_price_fen_per_t * self.accepted_kg
