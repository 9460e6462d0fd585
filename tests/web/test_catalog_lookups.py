"""The JSON look-ups behind the region picker and the waste search, including bad input."""
from __future__ import annotations

from tests.fixtures import generator, login  # noqa: F401


def _json(client, url, status=200, lang="en"):
    resp = client.get(url, headers={"Accept": "application/json", "Accept-Language": lang})
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:300])
    return resp.get_json()


def test_regions_list_provinces_children_and_search_without_logging_in(client):
    provinces = _json(client, "/catalog/regions")["regions"]
    assert {"code": "440000", "name": "广东省", "level": 1} in provinces
    cities = _json(client, "/catalog/regions?parent=440000")["regions"]
    assert {"code": "440300", "name": "深圳市", "level": 2} in cities
    assert all(r["code"].startswith("44") for r in cities)
    districts = _json(client, "/catalog/regions?parent=440300")["regions"]
    assert "440305" in [r["code"] for r in districts]
    found = _json(client, "/catalog/regions?q=%E5%8D%97%E5%B1%B1")["regions"]  # 南山
    # two districts are called 南山区; each is told apart by its path
    labels = {r["code"]: r["label"] for r in found}
    assert labels["440305"] == "广东省 › 深圳市 › 南山区" and labels["230404"] == "黑龙江省 › 鹤岗市 › 南山区"


def test_bad_region_requests_are_4xx_naming_the_field_and_the_fix(client):
    for url, field in (("/catalog/regions?parent=4400", "parent"), ("/catalog/regions?parent=abcdef", "parent"),
                       ("/catalog/regions?parent=990000", "parent"), ("/catalog/regions?q=", "q"),
                       ("/catalog/regions?q=" + "x" * 80, "q"), ("/catalog/regions?limit=0", "limit"),
                       ("/catalog/regions?limit=x", "limit"), ("/catalog/regions?q=a&parent=440000", "q")):
        body = _json(client, url, 422)
        assert body["error"]["field"] == field, url
        assert body["error"]["message"]
    zh = _json(client, "/catalog/regions?parent=4400", 422, lang="zh-CN")["error"]["message"]
    en = _json(client, "/catalog/regions?parent=4400", 422)["error"]["message"]
    assert zh != en and "440300" in en


def test_waste_search_needs_a_login_and_finds_everyday_words(client, generator):
    assert client.get("/catalog/waste?q=x").status_code in (302, 401)
    login(client, generator)
    results = _json(client, "/catalog/waste?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9")["results"]  # 废机油
    assert results[0]["category"] == "HW08" and results[0]["code"] == "900-214-08"
    assert _json(client, "/catalog/waste?q=HW08")["results"][0] == {
        "category": "HW08", "category_name": "Waste mineral oil and waste containing mineral oil",
        "code": None, "description": "",
        "matched": "HW08", "rank": 95}
    assert _json(client, "/catalog/waste?q=HW08", lang="zh-CN")["results"][0]["category_name"] == \
        "废矿物油与含矿物油废物"
    assert _json(client, "/catalog/waste?q=paint+cans&limit=1")["results"][0]["category"] == "HW49"
    assert _json(client, "/catalog/waste?q=")["results"] == [] == _json(client, "/catalog/waste")["results"]
    for url, field in (("/catalog/waste?q=" + "y" * 51, "q"), ("/catalog/waste?q=oil&limit=999", "limit"),
                       ("/catalog/waste?q=oil&limit=-1", "limit")):
        body = _json(client, url, 422)
        assert body["error"]["field"] == field and body["error"]["message"]
    zh = _json(client, "/catalog/waste?q=" + "y" * 51, 422, lang="zh-CN")["error"]["message"]
    assert zh == "搜索内容最多 50 个字符。"
