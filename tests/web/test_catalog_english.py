"""English pages name the 46 hazardous-waste categories and the method codes in English (reference
data market/catalog/data, sources in SOURCES.md); Chinese pages keep the official Chinese names."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from market import db
from market.catalog.models import DisposalMethod, WasteCategory
from tests.escrow_factories import make_order
from tests.web.marketplace import as_user


def chinese_labels() -> set[str]:
    """How a category or method name appears on a page: after its code ("HW08 废矿物油…", the
    choices) or after the bold code (the waste macro). The descriptions of individual 8-digit
    codes are official Chinese text with no English version, so they are not checked."""
    pairs = [(c.code, c.name_zh) for c in db.session.scalars(select(WasteCategory))]
    pairs += [(m.code, m.name_zh) for m in db.session.scalars(select(DisposalMethod))]
    return {f"{code} {name}" for code, name in pairs} | {f"</strong> {name}" for _c, name in pairs}


def test_every_category_and_national_method_has_an_english_name():
    cats = db.session.scalars(select(WasteCategory)).all()
    assert len(cats) == 46 and all(c.name_en and c.name_en.isascii() for c in cats)
    methods = db.session.scalars(select(DisposalMethod)).all()
    assert all(m.name_en and m.name_en.isascii() and m.group_name_en for m in methods)
    by_code = {m.code: m.name_en for m in methods}
    assert by_code["D10"] == "Incineration"  # Basel Convention Annex IV D10, "incineration on land"
    assert by_code["R9"] == "Used oil re-refining or other reuses of previously used oil"


@pytest.mark.parametrize("url, user", [("/requests/new", "generator"), ("/offers/new", "operator"),
                                       ("/offers", "generator")])
def test_english_pages_show_english_names_and_no_chinese_ones(client, request, url, user):
    who = request.getfixturevalue(user)
    chinese = chinese_labels()
    as_user(client, who, "en")
    page = client.get(url).get_data(as_text=True)
    assert "HW08 Waste mineral oil and waste containing mineral oil" in page
    assert "Medical waste" in page
    if user == "operator":
        assert "D10 Incineration" in page and "R9 Used oil re-refining" in page
    shown = [n for n in chinese if n in page]
    assert not shown, shown
    as_user(client, who, "zh-CN")
    page = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "HW08 废矿物油与含矿物油废物" in page and "Waste mineral oil" not in page


def test_the_order_list_names_the_category_in_the_page_language(client, generator, operator):
    make_order(generator.org, operator.org, category="HW08")
    as_user(client, generator, "en")
    page = client.get("/orders").get_data(as_text=True)
    assert re.search(r"<strong>HW08</strong> Waste mineral oil and waste containing mineral oil", page)
    assert "废矿物油" not in page


@pytest.mark.parametrize("q", ["表面处理", "surface treatment"])
def test_the_waste_search_finds_a_category_by_either_name_on_an_english_page(client, generator, q):
    as_user(client, generator, "en")
    results = client.get("/catalog/waste", query_string={"q": q},
                         headers={"Accept": "application/json"}).get_json()["results"]
    assert results[0]["category"] == "HW17"
    assert results[0]["category_name"] == "Surface treatment waste"
