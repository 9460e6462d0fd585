"""A year of settled history for the demo (DESIGN.md §9a, issue 11 item 9), written in bulk.

Guangdong generators (large and small) and licensed operators trade the categories and methods of
market/catalog/data/price_ranges_synthetic.csv for the twelve months before this one: prices drawn
lognormal within each cell's 2024 range (normal where the range reaches below zero — the operator
pays), small generators paying a premium, about 1.5 % abnormally low deals, one cell with only two
operators (suppressed) and medical waste (HW01) at the Guangdong tariff. Each order is written
settled: its disposal line, a received manifest, the settlement and its ledger entries (funding
Dr clearing:bank / Cr escrow:O, release Dr escrow:O / Cr payable:payee / Cr revenue:fees), all
with multi-row INSERTs inside one transaction, the ledger's statement triggers and deferred
balance checks included. Then the index is published (a final, and two preliminary releases) and
the abnormally low deals raise their regulator alerts.

Idempotent: nothing is written when history orders (numbers HH…) exist.
"""
from __future__ import annotations

import csv
import math
import random
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, insert, select, text
from stdnum.cn import uscc

from market import db
from market.accounts.models import CorporateGroup, Licence, LicenceItem, Organisation
from market.catalog.models import Region
from market.ledger.codes import parse_code, payload_hash
from market.listings.models import StorefrontOffer
from market.manifests.models import Manifest, ManifestLine
from market.money import fee_fen, line_amount_fen
from market.orders.models import Order, OrderLine
from market.oversight.services import raise_alert
from market.prices import calendar as cal
from market.prices.checks import BELOW_FLOOR
from market.prices.models import GovernmentTariff
from market.prices.services import publish
from market.settlement.models import Settlement, SettlementLine
from market.uow import transaction

CSV = Path(__file__).resolve().parent / "catalog" / "data" / "price_ranges_synthetic.csv"
PREFIX = "HH"
OPERATORS = 9
LARGE, SMALL = 24, 72
HW01_TARIFF_FEN = 280_000          # ¥2,800/t, a fictional Guangdong medical-waste tariff
THIN_CELL = ("HW35", "D9")          # traded by two operators only: suppressed
# Two history operators under one owner: the index counts them as one contributor.
GROUP_NAME, GROUP_MEMBERS = "粤环控股集团（演示）", (3, 4)
FEE_BPS = 100
SH = timezone(timedelta(hours=8))


def _code(region: str, serial: str) -> str:
    body = "91" + region + serial
    return body + uscc.calc_check_digit(body)


def _ranges() -> list[dict]:
    with open(CSV, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _regions() -> list[str]:
    return list(db.session.scalars(select(Region.code).where(
        Region.code.like("44%"), func.length(Region.code) == 6,
        Region.code.notlike("%00")).order_by(Region.code)))


def _orgs(rng: random.Random, rows: list[dict], regions: list[str], valid: tuple[date, date]):
    """History operators (licensed for every cell) and generators, created in bulk."""
    methods: dict[str, set[str]] = {}
    for r in rows:
        methods.setdefault(r["category"], set()).add(r["method_group"])
    methods["HW01"] = {"D10"}
    operators, generators = [], []
    for i in range(OPERATORS):
        region = regions[(i * 7) % len(regions)]
        org = Organisation(name=f"广东{'华南粤东粤西珠江北江东江西江南岭韩江'[i * 2:i * 2 + 2]}环保科技有限公司",
                           credit_code=_code(region, f"HTP{i:06d}"), kind="enterprise",
                           types=["operator"], region_code=region, address="广东省（演示历史）",
                           status="verified")
        org.licences = [Licence(number=f"粤危废经营许可证 HIST-{i + 1:03d}", kind="comprehensive",
                                valid_from=valid[0], valid_to=valid[1], status="verified",
                                items=[LicenceItem(category_code=c, codes=[],
                                                   operations=["收集", "贮存", "利用", "处置"],
                                                   method_codes=sorted(m),
                                                   approved_kg_per_year=80_000_000)
                                       for c, m in sorted(methods.items())])]
        operators.append(org)
    group = db.session.scalar(select(CorporateGroup).where(CorporateGroup.name == GROUP_NAME)) \
        or CorporateGroup(name=GROUP_NAME)
    for i in GROUP_MEMBERS:
        operators[i].corporate_group = group
    for i in range(LARGE + SMALL):
        region = rng.choice(regions)
        small = i >= LARGE
        name = (f"演示历史{'汽修' if i % 3 else '实验室'}服务部{i:03d}" if small
                else f"演示历史制造有限公司{i:03d}")
        generators.append((Organisation(name=name, credit_code=_code(region, f"HTG{i:06d}"),
                                        kind="enterprise", types=["generator"], region_code=region,
                                        address="广东省（演示历史）", status="verified"), small))
    db.session.add_all(operators + [g for g, _ in generators])
    db.session.flush()
    offers = {}
    for org in operators:
        for item in org.licences[0].items:
            offer = StorefrontOffer(operator_id=org.id, category_code=item.category_code,
                                    method_code=item.method_codes[0], service_region_prefixes=["44"],
                                    min_kg=100, max_kg=100_000, unit_price_fen_per_t=0,
                                    active=False, description="历史成交（演示）")
            db.session.add(offer)
            offers[(org.id, item.category_code)] = (offer, item)
    db.session.flush()
    return operators, generators, {k: (o.id, it.id) for k, (o, it) in offers.items()}


def _price(rng: random.Random, row: dict, month_index: int, small: bool) -> int:
    low, high = int(row["yuan_per_t_low_2024"]) * 100, int(row["yuan_per_t_high_2024"]) * 100
    trend = 1 + 0.004 * (month_index - 6)
    if low > 0:
        mu, sigma = (math.log(low) + math.log(high)) / 2, (math.log(high) - math.log(low)) / 3.29
        price = math.exp(rng.gauss(mu, sigma)) * trend
        if small:
            price *= 1.12
    else:
        price = rng.gauss((low + high) / 2, (high - low) / 3.29)
        if small:
            price -= abs(high - low) * 0.08      # a small generator is paid less (pays more)
    return int(round(price / 100)) * 100


def _plan(rng, rows, operators, generators, months):
    """[(month, category, method, operator, generator, small, kg, price, abnormal)]."""
    plan = []
    for mi, month in enumerate(months):
        for row in rows:
            cell = (row["category"], row["method_group"])
            offset = sum(map(ord, cell[0] + cell[1]))
            ops = operators[:2] if cell == THIN_CELL else \
                [operators[(offset + k) % len(operators)] for k in range(5)]
            for _ in range(rng.randint(16, 28) if cell != THIN_CELL else 4):
                gen, small = rng.choice(generators)
                kg = (rng.randint(20, 150) if small else rng.randint(300, 2000)) * 10
                price = _price(rng, row, mi, small)
                abnormal = price > 0 and rng.random() < 0.015
                if abnormal:
                    price = int(price * rng.uniform(0.15, 0.3)) // 100 * 100
                plan.append((month, row["category"], row["method_group"], rng.choice(ops), gen,
                             small, kg, price, abnormal))
        for _ in range(8):
            gen, small = rng.choice(generators)
            plan.append((month, "HW01", "D10", rng.choice(operators), gen, small,
                         rng.randint(5, 60) * 10, HW01_TARIFF_FEN, False))
    return plan


def seed_history(*, seed: int = 11, carrier: Organisation | None = None) -> dict:
    """Write the history and publish the index; return counts and seconds taken."""
    started = time.perf_counter()
    if db.session.scalar(select(Order.id).where(Order.number.like(f"{PREFIX}%")).limit(1)):
        return {"orders": 0, "skipped": True, "seconds": 0.0}
    rng = random.Random(seed)
    rows = _ranges()
    today = date.today()
    first = cal.add_months(cal.month_start(today), -12)
    months = [cal.add_months(first, i) for i in range(12)]
    with transaction() as s:
        regions = _regions()
        operators, generators, offers = _orgs(rng, rows, regions,
                                              (date(today.year - 1, 1, 1), date(today.year + 1, 12, 31)))
        carrier_id = (carrier or operators[0]).id
        if s.scalar(select(GovernmentTariff.id).where(GovernmentTariff.category_code == "HW01")) is None:
            s.add(GovernmentTariff(category_code="HW01", region_prefix="44",
                                   unit_price_fen_per_t=HW01_TARIFF_FEN, valid_from=date(2024, 1, 1),
                                   source="演示：广东省医疗废物处置收费标准（虚构）"))
        plan = _plan(rng, rows, operators, generators, months)
        order_rows, received = [], []
        for n, (month, cat, method, op, gen, small, kg, price, _ab) in enumerate(plan, 1):
            day = rng.randint(1, 27)
            at = datetime(month.year, month.month, day, 10, 0, tzinfo=SH)
            received.append(at)
            offer_id, item_id = offers[(op.id, cat)]
            order_rows.append(dict(number=f"{PREFIX}{month:%Y%m}{n:06d}", offer_id=offer_id,
                                   generator_id=gen.id, operator_id=op.id, licence_item_id=item_id,
                                   category_code=cat, quantity_kg=kg, region_code=gen.region_code,
                                   address=gen.address, status="settled",
                                   created_at=at - timedelta(days=12)))
        order_ids = list(s.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True),
                                   order_rows))
        line_rows = []
        for oid, (month, cat, method, op, gen, small, kg, price, _ab) in zip(order_ids, plan):
            line_rows.append(dict(order_id=oid, kind="disposal", payee_org_id=op.id,
                                  unit_price_fen_per_t=price, quantity_kg=kg,
                                  amount_fen=line_amount_fen(price, kg)))
        line_ids = list(s.scalars(insert(OrderLine).returning(OrderLine.id,
                                                               sort_by_parameter_order=True),
                                  line_rows))
        man_rows = []
        for k, (oid, at, p) in enumerate(zip(order_ids, received, plan)):
            month, cat, method, op, gen, small, kg, price, _ab = p
            man_rows.append(dict(number=f"{at.year}{gen.region_code[:4]}{900000 + k:06d}",
                                 order_id=oid, status="received", verify_token=f"{k:032d}",
                                 generator_org_id=gen.id, planned_pickup_at=at - timedelta(days=1),
                                 pickup_address=gen.address, carrier_org_id=carrier_id,
                                 carrier_permit_number="粤交运管许可穗字440100000001号",
                                 vehicle_plate="粤A12345", driver_name="演示司机",
                                 driver_phone="13800000000", receiver_org_id=op.id,
                                 licence_number=op.licences[0].number,
                                 shipped_at=at - timedelta(days=1), method_code=method,
                                 received_at=at, created_at=at - timedelta(days=2)))
        man_ids = list(s.scalars(insert(Manifest).returning(Manifest.id,
                                                            sort_by_parameter_order=True), man_rows))
        s.execute(insert(ManifestLine), [
            dict(manifest_id=mid, order_line_id=lid, category_code=p[1], name="（演示历史）",
                 form="solid", count=1, sent_kg=p[6], received_kg=p[6], refused_kg=0)
            for mid, lid, p in zip(man_ids, line_ids, plan)])
        set_rows, money = [], []
        for oid, lr, at in zip(order_ids, line_rows, received):
            amount = lr["amount_fen"]
            fee = fee_fen(amount, FEE_BPS) if amount > 0 else 0
            set_rows.append(dict(order_id=oid, status="settled", accepted_kg=lr["quantity_kg"],
                                 disposal_fen=amount, fee_fen=fee, settled_at=at + timedelta(days=1),
                                 created_at=at + timedelta(days=1)))
            money.append((amount, fee))
        set_ids = list(s.scalars(insert(Settlement).returning(Settlement.id,
                                                              sort_by_parameter_order=True), set_rows))
        sl_rows = []
        for sid, lid, p, (amount, fee) in zip(set_ids, line_ids, plan, money):
            op, gen = p[3], p[4]
            payer, payee = (gen.id, op.id) if amount >= 0 else (op.id, gen.id)
            sl_rows.append(dict(settlement_id=sid, line_id=lid, kind="disposal", payer_org_id=payer,
                                payee_org_id=payee, value_fen=abs(amount), fee_fen=fee))
        s.execute(insert(SettlementLine), sl_rows)
        _post_ledger(s, order_rows, plan, money, received)
    counts = {"orders": len(plan), "abnormal": sum(1 for p in plan if p[8])}
    for i, release in ((-3, "final"), (-2, "preliminary"), (-1, "preliminary")):
        publish(cal.add_months(cal.month_start(today), i), release)
    with transaction():
        for oid, p in zip(order_ids, plan):
            if p[8]:
                raise_alert(BELOW_FLOOR, "warning", subject=f"order:{oid}", order_id=oid,
                            data={"category": p[1], "method_code": p[2], "price_fen_per_t": p[7],
                                  "source": "demo history"})
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _post_ledger(s, order_rows, plan, money, received) -> None:
    """Funding and release entries of every history order, in three multi-row statements."""
    codes = {"clearing:bank", "revenue:fees"}
    entries, legs = [], []
    for o, p, (amount, fee), at in zip(order_rows, plan, money, received):
        escrow = f"escrow:{o['number']}"
        payee = f"payable:{p[3].id if amount >= 0 else p[4].id}"
        value = abs(amount)
        codes.update((escrow, payee))
        fund = [("clearing:bank", value), (escrow, -value)]
        release = [(escrow, value), (payee, -(value - fee))] + ([("revenue:fees", -fee)] if fee else [])
        for kind, lines, when in (("fund", fund, at - timedelta(days=5)),
                                  ("release", release, at + timedelta(days=1))):
            memo = f"演示历史 {o['number']} {kind}"
            entries.append(dict(idempotency_key=f"demo-history:{o['number']}:{kind}",
                                payload_hash=payload_hash(lines, memo), memo=memo, posted_at=when))
            legs.append(lines)
    parsed = [parse_code(c) for c in sorted(codes)]
    s.execute(text("INSERT INTO ledger_account (code, kind, may_go_negative, cached_balance_fen) "
                   "SELECT * FROM unnest(CAST(:c AS text[]), CAST(:k AS text[]), "
                   "CAST(:n AS boolean[]), CAST(:b AS bigint[])) ON CONFLICT (code) DO NOTHING"),
              {"c": [p.code for p in parsed], "k": [p.kind for p in parsed],
               "n": [p.may_go_negative for p in parsed],
               "b": [None if p.may_go_negative else 0 for p in parsed]})
    ids = dict(s.execute(text("SELECT code, id FROM ledger_account WHERE code = ANY(:c)"),
                         {"c": [p.code for p in parsed]}).all())
    entry_ids = list(s.execute(text(
        "INSERT INTO ledger_entry (idempotency_key, payload_hash, memo, posted_at) "
        "SELECT k, h, m, p FROM unnest(CAST(:k AS text[]), CAST(:h AS text[]), "
        "CAST(:m AS text[]), CAST(:p AS timestamptz[])) WITH ORDINALITY AS t(k, h, m, p, i) "
        "ORDER BY i "
        "RETURNING id"),
        {"k": [e["idempotency_key"] for e in entries], "h": [e["payload_hash"] for e in entries],
         "m": [e["memo"] for e in entries], "p": [e["posted_at"] for e in entries]}).scalars())
    e_col, a_col, amt = [], [], []
    for eid, lines in zip(sorted(entry_ids), legs):
        for code, amount in lines:
            e_col.append(eid)
            a_col.append(ids[code])
            amt.append(amount)
    s.execute(text("INSERT INTO ledger_posting (entry_id, account_id, amount_fen) "
                   "SELECT * FROM unnest(CAST(:e AS bigint[]), CAST(:a AS int[]), "
                   "CAST(:x AS bigint[]))"), {"e": e_col, "a": a_col, "x": amt})
