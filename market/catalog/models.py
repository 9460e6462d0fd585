from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base


class WasteCategory(Base):
    """One of the 46 HW categories of the National Hazardous Waste List."""
    __tablename__ = "waste_category"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)  # HW08
    name: Mapped[str] = mapped_column(String(100))

    @property
    def number(self) -> str:
        return self.code[2:]


class WasteCode(Base):
    """An 8-digit waste code NNN-NNN-NN; the last two digits name its category."""
    __tablename__ = "waste_code"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"), index=True)
    industry: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    hazards: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)


class DisposalMethod(Base):
    """A utilisation/disposal method code (R*, D*, C*) as used in operating licences."""
    __tablename__ = "disposal_method"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(2))
    group_name: Mapped[str] = mapped_column(String(50))
    national: Mapped[bool] = mapped_column(Boolean)


class Region(Base):
    """An administrative division of GB/T 2260."""
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    level: Mapped[int] = mapped_column(SmallInteger)


class WasteSynonym(Base):
    """An everyday word for a kind of waste (废机油, paint cans), mapped to its category and maybe a code.

    Reference data (market/catalog/data/waste_synonyms.csv), read by the waste search. The code is
    not a foreign key: an imported official list replaces the sample codes.
    """
    __tablename__ = "waste_synonym"

    term: Mapped[str] = mapped_column(String(50), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2))
    category_code: Mapped[str] = mapped_column(ForeignKey("waste_category.code"), index=True)
    waste_code: Mapped[str | None] = mapped_column(String(10))
