"""The catalog and organisation-directory lists: contents, filters, cursor pagination, bad params."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from market import db
from market.api.pagination import encode_cursor
from market.catalog.models import DisposalMethod, Region, WasteCategory, WasteCode
from tests.api.conftest import error_of
from tests.factories import OrganisationFactory, PlatformOrgFactory, RegulatorOrgFactory

LISTS = ["/api/v1/catalog/categories", "/api/v1/catalog/codes", "/api/v1/catalog/methods",
         "/api/v1/catalog/regions", "/api/v1/organisations"]


def walk(client, headers, url: str, limit: int) -> tuple[list[dict], int]:
    """Every item of a list, following `next`; also the number of pages."""
    items, pages, cursor = [], 0, None
    while True:
        sep = "&" if "?" in url else "?"
        resp = client.get(f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""),
                          headers=headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert set(body) == {"items", "next"}
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            return items, pages
        assert pages < 100


@pytest.mark.parametrize("url", LISTS)
def test_lists_need_a_token(client, url):
    resp = client.get(url)
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"


def test_categories_all_in_code_order_across_pages(client, gen_headers):
    expected = list(db.session.execute(select(WasteCategory.code, WasteCategory.name_zh)
                                       .order_by(WasteCategory.code)))
    assert len(expected) == 46
    items, pages = walk(client, gen_headers, "/api/v1/catalog/categories", 10)
    assert pages == 5
    assert [(i["category"], i["name"]) for i in items] == [tuple(r) for r in expected]
    first = client.get("/api/v1/catalog/categories", headers=gen_headers).get_json()
    assert len(first["items"]) == 46 and first["next"] is None  # default limit 50


def test_codes_search_and_fields(client, gen_headers):
    items, _pages = walk(client, gen_headers, "/api/v1/catalog/codes", 3)
    total = db.session.scalar(select(func.count()).select_from(WasteCode))
    assert len(items) == total and total >= 8
    assert [i["code"] for i in items] == sorted(i["code"] for i in items)
    one = client.get("/api/v1/catalog/codes?q=900-214", headers=gen_headers).get_json()
    assert one["next"] is None
    assert one["items"] == [{
        "code": "900-214-08", "category": "HW08", "industry": "非特定行业",
        "description": one["items"][0]["description"], "hazards": ["T", "I"], "sample": True}]
    hw08 = client.get("/api/v1/catalog/codes?q=hw08", headers=gen_headers).get_json()["items"]
    assert hw08 and all(i["category"] == "HW08" for i in hw08)
    by_text = client.get("/api/v1/catalog/codes?q=废润滑油", headers=gen_headers).get_json()["items"]
    assert [i["code"] for i in by_text] == ["900-214-08"]
    # LIKE wildcards in q are literal characters, not patterns.
    assert client.get("/api/v1/catalog/codes?q=%25", headers=gen_headers).get_json()["items"] == []
    assert client.get("/api/v1/catalog/codes?q=_", headers=gen_headers).get_json()["items"] == []


def test_methods_grouped_and_paged(client, gen_headers):
    expected = list(db.session.execute(select(DisposalMethod.code, DisposalMethod.group)
                                       .where(DisposalMethod.national.is_(True))
                                       .order_by(DisposalMethod.group, DisposalMethod.code)))
    items, pages = walk(client, gen_headers, "/api/v1/catalog/methods", 4)
    assert pages > 1
    assert [(i["code"], i["group"]) for i in items] == [tuple(r) for r in expected]
    assert set(items[0]) == {"code", "name", "name_en", "group", "group_name", "group_name_en"}
    d10 = next(i for i in items if i["code"] == "D10")
    assert (d10["name"], d10["name_en"], d10["group_name_en"]) == ("焚烧", "Incineration", "Disposal")


def test_regions_provinces_then_children(client, gen_headers):
    provinces, _ = walk(client, gen_headers, "/api/v1/catalog/regions", 200)
    assert len(provinces) == db.session.scalar(select(func.count()).select_from(Region)
                                               .where(Region.level == 1))
    assert {"code": "440000", "name": "广东省", "parent_code": None, "level": 1} in provinces
    children, pages = walk(client, gen_headers, "/api/v1/catalog/regions?parent=440300", 3)
    assert pages > 1
    assert {"code": "440306", "name": "宝安区", "parent_code": "440300", "level": 3} in children
    assert all(c["parent_code"] == "440300" for c in children)


def test_regions_unknown_parent_is_404_and_malformed_422(client, gen_headers):
    resp = client.get("/api/v1/catalog/regions?parent=999999", headers=gen_headers)
    assert resp.status_code == 404
    err = error_of(resp)
    assert err["code"] == "not_found" and err["field"] == "parent"
    for bad in ("4403", "44030a", "4403000", "４４０３００"):
        resp = client.get(f"/api/v1/catalog/regions?parent={bad}", headers=gen_headers)
        assert resp.status_code == 422, bad
        assert error_of(resp)["field"] == "parent"


def test_directory_lists_only_verified_enterprises(client, generator, gen_headers):
    shown = [generator.org,
             OrganisationFactory(types=["operator"], region_code="441900"),
             OrganisationFactory(types=["carrier", "lab"], region_code="440106")]
    hidden = [OrganisationFactory(status="pending"), OrganisationFactory(status="suspended"),
              OrganisationFactory(status="rejected"), RegulatorOrgFactory(status="verified"),
              PlatformOrgFactory(status="verified")]
    items, _ = walk(client, gen_headers, "/api/v1/organisations", 2)
    assert [i["id"] for i in items] == [o.id for o in shown]
    assert not {o.id for o in hidden} & {i["id"] for i in items}
    assert items[2] == {"id": shown[2].id, "name": shown[2].name, "types": ["carrier", "lab"],
                        "region_code": "440106"}


def test_directory_filters_by_type_and_region_prefix(client, generator, gen_headers):
    op_dg = OrganisationFactory(types=["operator"], region_code="441900")
    op_sz = OrganisationFactory(types=["generator", "operator"], region_code="440305")
    lab = OrganisationFactory(types=["lab"], region_code="440305")

    def ids(query):
        resp = client.get(f"/api/v1/organisations?{query}", headers=gen_headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return [i["id"] for i in resp.get_json()["items"]]

    assert ids("type=operator") == [op_dg.id, op_sz.id]
    assert ids("region=4403") == [generator.org.id, op_sz.id, lab.id]
    assert ids("type=operator&region=4403") == [op_sz.id]
    assert ids("region=440305&type=lab") == [lab.id]
    assert ids("region=44") == [generator.org.id, op_dg.id, op_sz.id, lab.id]
    assert ids("region=11") == []
    assert ids("type=&region=") == [generator.org.id, op_dg.id, op_sz.id, lab.id]


@pytest.mark.parametrize("query,field", [
    ("type=regulator", "type"),
    ("type=Operator", "type"),
    ("type=platform", "type"),
    ("region=44%25", "region"),
    ("region=abc", "region"),
    ("region=1234567", "region"),
    ("region=-44", "region"),
])
def test_directory_bad_filters_are_422_naming_the_field(client, gen_headers, query, field):
    resp = client.get(f"/api/v1/organisations?{query}", headers=gen_headers)
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["code"] == "validation_failed" and err["field"] == field
    assert field in err["message"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("limit", ["0", "201", "-1", "x", "1.5", "true", "99999999999999999999"])
def test_bad_limit_is_422(client, gen_headers, url, limit):
    resp = client.get(f"{url}?limit={limit}", headers=gen_headers)
    assert resp.status_code == 422
    err = error_of(resp)
    assert err["field"] == "limit" and "limit" in err["message"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("cursor", [
    "!!!", "abc", _b64(b"not json"), _b64(b'{"a": 1}'), _b64(b"[]"), _b64(b"[true]"),
    _b64(b'["a", "b", "c"]'), _b64(b"[1.5]"), _b64(b"\xff\xfe"), "x" * 600,
    encode_cursor([10**30]), encode_cursor(["a\x00"]), encode_cursor(["a", "b\x00"]),
])
def test_malformed_cursor_is_422(client, gen_headers, url, cursor):
    resp = client.get(f"{url}?cursor={cursor}", headers=gen_headers)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert error_of(resp)["field"] == "cursor"


def test_cursor_of_another_list_is_refused(client, gen_headers):
    # The methods list sorts by (group, code); a single-key cursor does not fit it, nor does a
    # string key fit the organisation list's integer ids.
    assert client.get(f"/api/v1/catalog/methods?cursor={encode_cursor(['HW08'])}",
                      headers=gen_headers).status_code == 422
    assert client.get(f"/api/v1/organisations?cursor={encode_cursor(['HW08'])}",
                      headers=gen_headers).status_code == 422


@pytest.mark.parametrize("q", ["x" * 101, "a%00b"])
def test_bad_q_is_422(client, gen_headers, q):
    resp = client.get("/api/v1/catalog/codes?q=" + q, headers=gen_headers)
    assert resp.status_code == 422 and error_of(resp)["field"] == "q"
