"""Collection rounds in a real browser (issue 13's acceptance).

A repair shop in Foshan 南海 (gen2), on a 390 px phone in Chinese, finds the round for its
district, books 80 kg of waste oil in three steps (find → book → pay) and reads its bank reference;
finance (English) confirms the transfer. Four more small generators book and pay. The collector
(English) starts the round, records the stops — one no-show, one 20 % heavier (a top-up), one
lighter (a refund) — and the depot receives the whole trip. Each booking settles to the fen; the
collector's payable and the generators' refunds add up.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from market import db, ledger
from market.collection import queries, run, services
from market.collection.models import Booking, CollectionRound
from market.jobs.schedule import TZ
from market.listings.validation import today
from market.orders import lifecycle
from market.uow import transaction
from tests.collection_factories import booking_data, pay
from tests.e2e.test_sampling_contract import log_in, user

pytestmark = [pytest.mark.committed, pytest.mark.e2e]


def _round():
    day = today() + timedelta(days=3)
    return services.publish_round(user("collector"), {
        "region_codes": ["440300", "440600"], "date": day.isoformat(), "window_start": "09:00",
        "window_end": "17:00", "categories": ["HW08"], "price_fen_per_kg": 300,
        "minimum_fen": 10_000, "vehicle_capacity_kg": 2_000,
        "booking_closes_at": datetime.combine(day - timedelta(days=1), time(18),
                                              tzinfo=TZ).isoformat()})[0]


def test_a_repair_shop_books_on_a_phone_and_the_round_settles_each_booking(
        csrf_app, browser, live_server, page_for):
    from market.demo import seed
    seed()
    rnd = _round()
    round_id = rnd.id
    payable_before = ledger.balance(f"payable:{user('collector').org_id}")

    # --- a repair shop on a phone, in Chinese: three steps ---
    ctx = browser.new_context(locale="zh-CN", base_url=live_server,
                              viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = ctx.new_page()
    phone.goto("/login")
    phone.fill("input[name=email]", "gen2@demo.hazex.cn")
    phone.fill("input[name=password]", "hazex-demo")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/dashboard")
    phone.goto("/collection")                                             # 1. find
    assert phone.get_by_test_id("finder-region").input_value() == "440605"
    card = phone.locator(f"[data-testid=round][data-round-id='{round_id}']")
    assert "每吨" in card.inner_text()   # prices per tonne everywhere
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    card.get_by_test_id("book-round").click()                             # 2. book
    phone.get_by_test_id("book-category").select_option("HW08")
    phone.get_by_test_id("book-code").fill("900-214-08")
    phone.get_by_test_id("book-kg").fill("80")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_test_id("book-submit").click()
    phone.wait_for_selector("[data-testid=pay]")                          # 3. pay
    assert phone.get_by_test_id("booking-status").inner_text() == "待付款"
    assert phone.get_by_test_id("pay-amount").get_attribute("data-fen") == "24000"
    reference = phone.get_by_test_id("pay-reference").inner_text()
    booking_url = phone.url
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    finance = log_in(page_for, "en", "finance")
    finance.goto("/finance")
    form = finance.get_by_test_id("confirm-receipt")
    form.locator("input[name=reference]").fill(reference)
    form.locator("input[name=amount]").fill("240.00")
    form.locator("input[name=received_on]").fill(date.today().isoformat())
    form.locator("input[name=payer_name]").fill("佛山市南海区顺达汽车维修服务部")
    form.locator("input[name=bank_ref]").fill("GDB-20261206-0001")
    form.locator("button[type=submit]").click()
    finance.wait_for_selector("[data-testid=receipt][data-status=funded]")
    phone.goto(booking_url)
    assert phone.get_by_test_id("booking-status").inner_text() == "已预约"

    # --- four more small generators book and pay ---
    db.session.remove()
    fin = user("finance")
    plan = {"gen2": (80, 80), "school": (30, None), "repair2": (50, 60), "gen3": (100, 70),
            "gen1": (40, 40)}
    bookings = {"gen2": db.session.scalar(select(Booking).where(
        Booking.round_id == round_id, Booking.generator_id == user("gen2").org_id))}
    for who in ("school", "repair2", "gen3", "gen1"):
        g = user(who)
        b = services.book_round(g, round_id, booking_data(
            estimated_kg=plan[who][0], region_code=g.org.region_code, address=g.org.address))
        pay(b, fin)
        bookings[who] = b
    with transaction():
        db.session.get(CollectionRound, round_id).booking_closes_at = \
            datetime.now(TZ) - timedelta(minutes=1)
    db.session.remove()

    # --- the collector runs the round (English) ---
    op = log_in(page_for, "en", "collector")
    op.goto(f"/collection/rounds/{round_id}")
    op.get_by_test_id("start-plate").fill("粤B6C118")
    op.get_by_test_id("start-driver").fill("罗师傅")
    op.get_by_test_id("start-phone").fill("13912345678")
    op.get_by_test_id("start-round").click()
    op.wait_for_selector("[data-testid=round-page][data-status=started]")
    for who, (_est, weighed) in plan.items():
        stop = op.locator(f"[data-testid=round-booking][data-booking-id='{bookings[who].id}']")
        if weighed is None:
            stop.get_by_test_id("pickup-no-show").check()
            stop.get_by_test_id("pickup-note").fill("School closed, nobody answered")
        else:
            stop.get_by_test_id("pickup-kg").fill(str(weighed))
        stop.get_by_test_id("pickup-submit").click()
        op.wait_for_selector(f"[data-testid=round-booking][data-booking-id='{bookings[who].id}']"
                             f"[data-status={'no_show' if weighed is None else 'picked_up'}]")
    # each generator signs its part on the driver's phone (the collector is its own carrier:
    # its stop signed the carrier part)
    db.session.remove()
    for who, (_est, weighed) in plan.items():
        if weighed is not None and who != "gen2":
            m = run.manifest_of(db.session.get(Booking, bookings[who].id))
            lifecycle.sign_manifest(user(who), m.id, role="generator")
    db.session.remove()
    m = run.manifest_of(db.session.get(Booking, bookings["gen2"].id))
    phone.goto(f"/manifests/{m.id}")
    phone.get_by_test_id("sign-generator").click()
    phone.wait_for_selector("[data-testid=signature][data-part=generator][data-signed=yes]")
    ctx.close()

    op.goto(f"/collection/rounds/{round_id}")
    op.get_by_test_id("receive-method").fill("R9")
    op.get_by_test_id("receive-trip").click()
    op.wait_for_selector("[data-testid=round-page][data-status=received]")
    op.context.close()

    # the heavier one pays its top-up; then every booking is settled to the fen
    db.session.remove()
    pay(db.session.get(Booking, bookings["repair2"].id), user("finance"))
    db.session.remove()
    views = {who: queries.booking_json(db.session.get(Booking, b.id))
             for who, b in bookings.items()}
    fee = csrf_app.config["COLLECTION_NO_SHOW_FEE_FEN"]
    assert {w: v["status"] for w, v in views.items()} == {
        "gen2": "settled", "school": "no_show", "repair2": "settled", "gen3": "settled",
        "gen1": "settled"}
    assert {w: v["settled_fen"] for w, v in views.items()} == {
        "gen2": 24_000, "school": fee, "repair2": 18_000, "gen3": 21_000, "gen1": 12_000}
    assert {w: v["refunded_fen"] for w, v in views.items()} == {
        "gen2": 0, "school": 10_000 - fee, "repair2": 0, "gen3": 9_000, "gen1": 0}
    for v in views.values():
        assert ledger.balance(f"escrow:{v['order_number']}") == 0
    collector_org = user("collector").org_id
    fees = sum(v["fees_fen"] for v in views.values())
    released = 24_000 + fee + 18_000 + 21_000 + 12_000
    assert ledger.balance(f"payable:{collector_org}") - payable_before == released - fees
    assert ledger.trial_balance().total == 0
