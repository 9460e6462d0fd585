"""The waste search (codes, categories, everyday words) and the region search, as a user types."""
from __future__ import annotations

import csv

from sqlalchemy import func, select

from market import db
from market.catalog.models import WasteSynonym
from market.catalog.search import EXACT_WORD, normalise, picker, search_regions, search_waste
from market.catalog.services import DATA, load_reference_data

REQUIRED_WORDS = ["废机油", "废矿物油", "机油", "废油漆桶", "油漆桶", "废油漆", "实验室废液", "废酸", "废碱",
                  "废电池", "铅蓄电池", "废灯管", "废活性炭", "废乳化液", "含油抹布", "废有机溶剂", "医疗废物",
                  "废线路板", "waste oil", "paint cans", "lab waste", "used batteries", "fluorescent tubes"]


def _top(q):
    found = search_waste(q)
    assert found, f"nothing found for {q!r}"
    return found[0]


def test_every_everyday_word_of_the_brief_finds_its_category_first():
    expected = {"废机油": "HW08", "机油": "HW08", "废矿物油": "HW08", "废油漆桶": "HW49", "油漆桶": "HW49",
                "废油漆": "HW12", "实验室废液": "HW49", "废酸": "HW34", "废碱": "HW35", "废电池": "HW31",
                "铅蓄电池": "HW31", "废灯管": "HW29", "废活性炭": "HW49", "废乳化液": "HW09",
                "含油抹布": "HW49", "废有机溶剂": "HW06", "医疗废物": "HW01", "废线路板": "HW49",
                "waste oil": "HW08", "paint cans": "HW49", "lab waste": "HW49",
                "used batteries": "HW31", "fluorescent tubes": "HW29"}
    assert set(expected) == set(REQUIRED_WORDS)
    for word, category in expected.items():
        assert _top(word).category == category, word


def test_an_everyday_word_with_a_known_code_suggests_the_code_first_then_the_category():
    found = search_waste("废机油")
    assert (found[0].category, found[0].code) == ("HW08", "900-214-08")
    assert found[0].matched == "废机油"
    assert ("HW08", None) in [(s.category, s.code) for s in found]


def test_typing_a_category_code_selects_the_category_in_any_case_or_width():
    for q in ("HW08", "hw08", "ＨＷ０８", "hw8", " HW08 "):
        top = _top(q)
        assert (top.category, top.code) == ("HW08", None), q
        assert top.category_name == "废矿物油与含矿物油废物"
    # its codes follow the category
    assert {s.code for s in search_waste("HW08")[1:]} == {"900-214-08", "900-249-08"}


def test_typing_a_full_code_selects_that_code_and_a_prefix_lists_the_codes_it_begins():
    top = _top("900-249-08")
    assert (top.category, top.code) == ("HW08", "900-249-08")
    assert [s for s in search_waste("900-249-08") if s.code == "900-249-08"] == [top]
    assert {s.code for s in search_waste("900-2")} == {"900-214-08", "900-249-08", "900-252-12"}


def test_category_names_and_code_descriptions_are_searched_exact_names_first():
    assert _top("废矿物油与含矿物油废物").category == "HW08"
    assert (_top("废有机溶剂与含有机溶剂废物").category, _top("废有机溶剂与含有机溶剂废物").code) == ("HW06", None)
    # words only in a code's description
    assert _top("飞灰").code == "772-002-18"
    assert "900-039-49" in [s.code for s in search_waste("VOCs")]


def test_an_exact_word_ranks_above_a_word_that_merely_contains_it():
    ranked = search_waste("油漆")
    cats = [s.category for s in ranked]
    assert "HW12" in cats and "HW49" in cats  # 废油漆 and 油漆桶 both contain it
    assert all(s.rank < EXACT_WORD - 1 for s in ranked)
    exact = search_waste("油漆桶")
    assert (exact[0].matched, exact[0].code, exact[0].rank) == ("油漆桶", "900-041-49", EXACT_WORD)
    # a longer phrase holding a known word still finds it
    assert _top("车间的废机油桶").category == "HW08"


def test_unknown_and_hostile_queries_find_nothing_and_do_not_fail():
    for q in ("", "   ", "zzzz", "%", "_", "'; drop table region; --", "\\", "x" * 500):
        assert search_waste(q) == [], q
    assert normalise("x" * 500) == "x" * 50


def test_the_synonyms_file_is_the_table_and_loading_twice_changes_nothing():
    rows = list(csv.DictReader((DATA / "waste_synonyms.csv").open(encoding="utf-8")))
    load_reference_data()
    load_reference_data()
    assert db.session.scalar(select(func.count()).select_from(WasteSynonym)) == len(rows)
    assert {r["term"].lower() for r in rows} >= {w.lower() for w in REQUIRED_WORDS}
    cats = {r["category"] for r in rows}
    assert all(c.startswith("HW") for c in cats)


def test_region_search_by_name_gives_the_path_districts_first():
    hits = search_regions("南山")
    shenzhen = [h for h in hits if h.code == "440305"]
    assert shenzhen and shenzhen[0].path == ["广东省", "深圳市", "南山区"]
    assert shenzhen[0].json()["label"] == "广东省 › 深圳市 › 南山区"
    assert search_regions("深圳 南山")[0].code == "440305"
    assert search_regions("4403")[0].code.startswith("4403")
    assert search_regions("") == [] and search_regions("no such place") == []


def test_the_picker_of_a_district_holds_its_province_city_and_siblings():
    data = picker("440305")
    (provinces, p), (cities, c), (districts, d) = data["levels"]
    assert (p, c, d) == ("440000", "440300", "440305")
    assert "440300" in [r.code for r in cities] and "440305" in [r.code for r in districts]
    assert len(provinces) >= 31
    assert data["path"] == ["广东省", "深圳市", "南山区"]
    empty = picker("")
    assert not empty["known"] and empty["levels"][1] == ([], "")
    assert not picker("999999")["known"] and not picker("44'; --")["known"]
