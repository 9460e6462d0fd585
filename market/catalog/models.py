from __future__ import annotations

from flask import has_app_context
from sqlalchemy import Boolean, ForeignKey, SmallInteger, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from market.db import Base
from market.web.i18n import language_code


def _english() -> bool:
    """Whether the active language is English (no app context: the Chinese default)."""
    return has_app_context() and language_code() == "en"


def _localised(zh, en):
    """Instance level: the English name on English pages when there is one, else the Chinese."""
    return en if en and _english() else zh


def _localised_sql(zh, en):
    """Query level, decided when the query is built: the same choice as a SQL expression."""
    return func.coalesce(en, zh) if _english() else zh


def localised_name(zh: str, en: str, doc: str) -> hybrid_property:
    """A name in the page language from the columns `zh` and `en`, in Python and in queries;
    setting it sets the Chinese (official) name."""
    def fget(self):
        return _localised(getattr(self, zh), getattr(self, en))

    def fset(self, value: str) -> None:
        setattr(self, zh, value)

    def expr(cls):
        return _localised_sql(getattr(cls, zh), getattr(cls, en))

    fget.__doc__ = doc
    return hybrid_property(fget, fset, expr=expr)


class WasteCategory(Base):
    """One of the 46 HW categories of the National Hazardous Waste List."""
    __tablename__ = "waste_category"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)  # HW08
    name_zh: Mapped[str] = mapped_column("name", String(100))  # the official (Chinese) name
    name_en: Mapped[str | None] = mapped_column(String(200))  # data/SOURCES.md says where from

    name = localised_name("name_zh", "name_en",
                          "The name in the page language (English pages: name_en).")

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
    name_zh: Mapped[str] = mapped_column("name", String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    group: Mapped[str] = mapped_column(String(2))
    group_name_zh: Mapped[str] = mapped_column("group_name", String(50))
    group_name_en: Mapped[str | None] = mapped_column(String(100))
    national: Mapped[bool] = mapped_column(Boolean)

    name = localised_name("name_zh", "name_en",
                          "The name in the page language (English pages: the Basel Annex IV wording).")

    group_name = localised_name("group_name_zh", "group_name_en",
                                "The method group's name in the page language.")


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
