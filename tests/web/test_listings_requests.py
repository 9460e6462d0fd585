"""Disposal requests through the web: the form, its refusals, the request page, edit, cancel, re-post."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from market import db
from market.listings.models import DisposalRequest, ServiceArea
from market.listings.validation import today
from tests.factories import LicenceItemFactory, OrganisationFactory, UserFactory
from tests.listing_factories import DisposalRequestFactory, QuoteFactory
from tests.web.marketplace import as_user, counts, field_error, text


@pytest.fixture
def gen_client(client, generator):
    return as_user(client, generator)


def form_data(**overrides) -> dict:
    data = {"category": "HW08", "waste_code": "900-214-08", "description": "废矿物油，200 L 铁桶装",
            "form": "liquid", "packaging": "200 L 铁桶", "hazards": ["T", "I"], "quantity": "10.5",
            "unit": "t", "region_code": "440306", "address": "深圳市宝安区测试路1号",
            "window_start": (today() + timedelta(days=7)).isoformat(),
            "window_end": (today() + timedelta(days=37)).isoformat(), "method_group": "",
            "budget": "12000.50", "recurring": "none", "action": "publish"}
    for k, v in overrides.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def only_request() -> DisposalRequest:
    return db.session.scalars(select(DisposalRequest)).one()


def test_new_request_form_defaults_to_the_organisation_and_lists_codes(gen_client, generator):
    resp = gen_client.get("/requests/new")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'value="440306"' in page and generator.org.address in page
    assert '<option value="900-214-08">' in page  # the datalist of codes


@pytest.mark.parametrize("q, code", [("废矿物油", "900-249-08"), ("HW17", "336-064-17"),
                                     ("表面处理", "336-064-17"), ("900-214", "900-214-08"),
                                     ("废机油", "900-214-08"), ("实验室废液", "900-047-49"),
                                     ("paint cans", "900-041-49")])
def test_the_waste_search_without_javascript_keeps_everything_typed(gen_client, q, code):
    typed = form_data(category="", waste_code="", address="宝安区测试路9号", quantity="3.25",
                      waste_q=q, _refine="waste")
    before = counts()
    resp = gen_client.post("/requests/new", data=typed)
    assert resp.status_code == 200  # a step within the form: no errors, nothing saved
    page = resp.get_data(as_text=True)
    assert f'data-code="{code}"' in page and 'data-testid="error-summary"' not in page
    assert 'value="宝安区测试路9号"' in page and 'value="3.25"' in page and f'value="{q}"' in page
    assert counts() == before


def test_choosing_a_suggestion_without_javascript_fills_category_and_code_only(gen_client):
    typed = form_data(category="", waste_code="", address="宝安区测试路9号", description="车间的废机油",
                      waste_q="废机油", _refine="pick:HW08:900-214-08")
    resp = gen_client.post("/requests/new", data=typed)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert '<option selected value="HW08">' in page and 'value="900-214-08"' in page
    assert 'value="宝安区测试路9号"' in page and "车间的废机油" in page
    assert gen_client.post("/requests/new", data=form_data(category="HW08", waste_code="900-214-08",
                                                            address="宝安区测试路9号")).status_code == 302
    assert only_request().waste_code == "900-214-08"


def test_the_region_picker_without_javascript_resolves_the_deepest_level(gen_client):
    # province and city chosen, the next level asked for: the districts of 深圳市 are offered
    typed = form_data(region_code="", **{"region_code-province": "440000", "region_code-city": "440300",
                                         "_refine": "region"})
    before = counts()
    resp = gen_client.post("/requests/new", data=typed)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<option value="440305">南山区</option>' in page
    assert '<option value="440300" selected>深圳市</option>' in page and counts() == before
    # district chosen: saved as 440305
    resp = gen_client.post("/requests/new", data=form_data(region_code="440305", **{
        "region_code-province": "440000", "region_code-city": "440300"}))
    assert resp.status_code == 302 and only_request().region_code == "440305"


def test_a_stale_city_or_district_left_after_changing_province_is_ignored(gen_client):
    # the province changed to 北京市 but 深圳市/南山区 were still selected: Beijing, not Nanshan
    resp = gen_client.post("/requests/new", data=form_data(region_code="440305", **{
        "region_code-province": "110000", "region_code-city": "440300"}))
    assert resp.status_code == 302 and only_request().region_code == "110000"


def test_the_chosen_region_is_shown_with_its_names(gen_client):
    page = gen_client.get("/requests/new").get_data(as_text=True)
    assert "广东省 › 深圳市 › 宝安区" in page and "(440306)" in page


def test_a_found_code_fills_the_form(gen_client):
    page = gen_client.get("/requests/new?waste_code=336-064-17&category=HW17").get_data(as_text=True)
    assert 'value="336-064-17"' in page and '<option selected value="HW17">' in page


def test_posting_a_request_stores_kilograms_and_fen_and_opens_it(gen_client, generator):
    resp = gen_client.post("/requests/new", data=form_data())
    assert resp.status_code == 302
    req = only_request()
    assert resp.headers["Location"].endswith(f"/requests/{req.id}")
    assert (req.quantity_kg, req.budget_fen, req.status) == (10_500, 1_200_050, "open")
    assert (req.generator_id, req.category_code, req.hazards) == (generator.org_id, "HW08", ["T", "I"])
    page = text(gen_client.get(resp.headers["Location"]))
    assert req.number in page and "10.500 t" in page


def test_kilograms_and_the_category_from_the_code(gen_client):
    resp = gen_client.post("/requests/new", data=form_data(quantity="850", unit="kg", category=""))
    assert resp.status_code == 302
    req = only_request()
    assert (req.quantity_kg, req.category_code, req.small_lot) == (850, "HW08", True)


def test_saving_a_draft_then_publishing_it(gen_client):
    assert gen_client.post("/requests/new", data=form_data(action="draft")).status_code == 302
    req = only_request()
    assert req.status == "draft"
    resp = gen_client.post(f"/requests/{req.id}/publish")
    assert resp.status_code == 302
    db.session.refresh(req)
    assert req.status == "open"


@pytest.mark.parametrize("overrides, field, message", [
    ({"quantity": "0"}, "quantity", "Quantity must be more than 0 kg."),
    ({"quantity": "-3"}, "quantity", "Quantity must be more than 0 kg."),
    ({"quantity": "2.5", "unit": "kg"}, "quantity", "Quantity must be a whole number of kilograms."),
    ({"quantity": ""}, "quantity", "This field is required."),
    ({"waste_code": "999-999-08"}, "waste_code",
     "Unknown waste code 999-999-08: enter eight digits such as 900-214-08, or search by name or everyday "
     "word and choose a suggestion."),
    ({"category": "HW12"}, "waste_code", "Waste code 900-214-08 belongs to HW08, not HW12: choose HW08 as "
                                         "the category, or a code of HW12."),
    ({"category": "", "waste_code": ""}, "category", "Choose a waste category from the list, or enter a "
                                                     "waste code"),
    ({"window_start": (today() - timedelta(days=1)).isoformat()}, "window_start",
     "The wanted window cannot start in the past"),
    ({"window_end": today().isoformat(), "window_start": (today() + timedelta(days=3)).isoformat()},
     "window_end", "The window must not end before it starts."),
    ({"region_code": "999999"}, "region_code", "Region code 999999 is not in the region table: choose the "
                                               "province, city and district from the lists, or search by name."),
    ({"region_code": "44"}, "region_code", "Choose a region from the lists"),
    ({"region_code": "", "region_code-province": ""}, "region_code",
     "Choose the province, then the city and district, or search by name."),
    ({"address": ""}, "address", "This field is required."),
    ({"hazards": ["X"]}, "hazards", "is not a valid choice"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(gen_client, overrides, field, message):
    before = counts()
    resp = gen_client.post("/requests/new", data=form_data(**overrides))
    assert resp.status_code == 422
    assert message in field_error(resp, field), text(resp)[:2000]
    assert counts() == before


def test_the_request_page_shows_matches_with_reasons(gen_client, generator, operator):
    req = DisposalRequestFactory(generator=generator.org)
    resp = gen_client.get(f"/requests/{req.id}")
    assert 'data-testid="match"' in resp.get_data(as_text=True)
    page = text(resp)
    assert operator.org.name in page
    assert "Licensed for HW08." in page and "Serves region 44." in page


def test_explain_lists_excluded_operators_with_the_first_failing_rule(gen_client, generator, operator):
    far = UserFactory(org=OrganisationFactory(types=["operator"], region_code="441900"))
    LicenceItemFactory(licence__org=far.org)
    db.session.add(ServiceArea(org_id=far.org_id, region_prefix="4419"))
    unlicensed = OrganisationFactory(types=["operator"], region_code="441900")
    db.session.commit()
    req = DisposalRequestFactory(generator=generator.org)
    plain = gen_client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'data-testid="excluded-row"' not in plain
    resp = gen_client.get(f"/requests/{req.id}?explain=1")
    page = resp.get_data(as_text=True)
    assert 'data-rule="region_not_served"' in page and 'data-rule="licence_not_valid"' in page
    words = text(resp)
    assert "The operator does not serve the pickup region 440306." in words
    assert unlicensed.name in words and far.org.name in words


def test_a_request_no_one_can_take_says_so(gen_client, generator, operator):
    req = DisposalRequestFactory(generator=generator.org, category_code="HW01", waste_code=None)
    resp = gen_client.get(f"/requests/{req.id}?explain=1")
    assert 'data-testid="no-matches"' in resp.get_data(as_text=True)
    assert "No licence item covers this waste category." in text(resp)


def test_editing_an_open_request_without_quotes(gen_client, generator):
    req = DisposalRequestFactory(generator=generator.org)
    page = gen_client.get(f"/requests/{req.id}?edit=1").get_data(as_text=True)
    assert 'data-testid="edit-form"' in page
    resp = gen_client.post(f"/requests/{req.id}", data=form_data(quantity="7", waste_code=""))
    assert resp.status_code == 302
    db.session.refresh(req)
    assert req.quantity_kg == 7_000 and req.waste_code is None


def test_editing_is_refused_with_a_field_message_and_changes_nothing(gen_client, generator):
    req = DisposalRequestFactory(generator=generator.org)
    before = counts()
    resp = gen_client.post(f"/requests/{req.id}", data=form_data(quantity="-1"))
    assert resp.status_code == 422
    assert "Quantity must be more than 0 kg." in field_error(resp, "quantity")
    db.session.refresh(req)
    assert req.quantity_kg == 5_000 and counts() == before


def test_a_request_with_live_quotes_cannot_be_edited(gen_client, generator, operator):
    req = DisposalRequestFactory(generator=generator.org)
    QuoteFactory(request=req, licence_item=operator.org.licences[0].items[0])
    page = gen_client.get(f"/requests/{req.id}?edit=1").get_data(as_text=True)
    assert 'data-testid="edit-form"' not in page
    before = counts()
    resp = gen_client.post(f"/requests/{req.id}", data=form_data(quantity="7"))
    assert resp.status_code == 409
    assert "Operators have quoted on this request" in text(resp)
    db.session.refresh(req)
    assert req.quantity_kg == 5_000 and counts() == before


def test_cancel_then_post_again(gen_client, generator, operator):
    req = DisposalRequestFactory(generator=generator.org)
    quote = QuoteFactory(request=req, licence_item=operator.org.licences[0].items[0])
    resp = gen_client.post(f"/requests/{req.id}/cancel", data={"reason": "已自行处理"})
    assert resp.status_code == 302
    db.session.refresh(req)
    db.session.refresh(quote)
    assert (req.status, quote.status) == ("cancelled", "rejected")
    assert 'data-testid="repost-form"' in gen_client.get(f"/requests/{req.id}").get_data(as_text=True)
    start = today() + timedelta(days=3)
    resp = gen_client.post(f"/requests/{req.id}", data={"window_start": start.isoformat(),
                                                        "window_end": (start + timedelta(days=10)).isoformat()})
    assert resp.status_code == 302
    new = db.session.scalars(select(DisposalRequest).where(DisposalRequest.id != req.id)).one()
    assert (new.status, new.window_start, new.quantity_kg) == ("open", start, req.quantity_kg)


def test_reposting_with_a_past_window_is_refused(gen_client, generator):
    req = DisposalRequestFactory(generator=generator.org, status="expired")
    before = counts()
    resp = gen_client.post(f"/requests/{req.id}", data={
        "window_start": (today() - timedelta(days=2)).isoformat(), "window_end": today().isoformat()})
    assert resp.status_code == 422
    assert "cannot start in the past" in field_error(resp, "window_start")
    assert counts() == before


def test_cancelling_twice_is_explained_not_an_error_page(gen_client, generator):
    req = DisposalRequestFactory(generator=generator.org, status="cancelled")
    resp = gen_client.post(f"/requests/{req.id}/cancel", follow_redirects=True)
    assert resp.status_code == 200
    assert "A request that is cancelled cannot become cancelled." in text(resp)


def test_another_organisations_request_is_404_and_unchanged(gen_client, other_generator):
    theirs = DisposalRequestFactory(generator=other_generator.org)
    before = counts()
    assert gen_client.get(f"/requests/{theirs.id}").status_code == 404
    assert gen_client.post(f"/requests/{theirs.id}", data=form_data(quantity="1")).status_code == 404
    assert gen_client.post(f"/requests/{theirs.id}/cancel").status_code == 404
    assert gen_client.post(f"/requests/{theirs.id}/publish").status_code == 404
    db.session.refresh(theirs)
    assert (theirs.status, theirs.quantity_kg) == ("open", 5_000) and counts() == before


def test_the_list_filters_by_status(gen_client, generator, other_generator):
    mine_open = DisposalRequestFactory(generator=generator.org)
    mine_done = DisposalRequestFactory(generator=generator.org, status="cancelled")
    theirs = DisposalRequestFactory(generator=other_generator.org)
    page = gen_client.get("/requests").get_data(as_text=True)
    assert mine_open.number in page and mine_done.number in page and theirs.number not in page
    page = gen_client.get("/requests?status=open").get_data(as_text=True)
    assert mine_open.number in page and mine_done.number not in page


def test_regulators_read_requests_of_their_region_only(client, regulator, generator, other_generator):
    inside = DisposalRequestFactory(generator=generator.org)  # 440306, in 4403
    outside = DisposalRequestFactory(generator=other_generator.org, region_code="440605")
    as_user(client, regulator)
    page = client.get("/requests").get_data(as_text=True)
    assert inside.number in page and outside.number not in page
    resp = client.get(f"/requests/{inside.id}")
    assert resp.status_code == 200 and "Read-only view" in text(resp)
    assert 'data-testid="cancel-form"' not in resp.get_data(as_text=True)
    assert client.get(f"/requests/{outside.id}").status_code == 404
    before = counts()
    assert client.post(f"/requests/{inside.id}/cancel").status_code == 403
    assert counts() == before
