"""The demo market of DESIGN.md §9a: fictional Guangdong organisations, all verified."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select
from stdnum.cn import uscc

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, Permit, User
from market.accounts.passwords import hash_password
from market.audit.services import record
from market.collection import demo as collection_demo
from market.db import utcnow
from market.settlement.payout_models import BankAccount
from market.uow import transaction

DEMO_PASSWORD = "hazex-demo"


def credit_code(region: str, serial: str) -> str:
    """A checksum-valid unified social credit code for a fictional enterprise."""
    body = "91" + region + serial
    return body + uscc.calc_check_digit(body)


# email, organisation, types, region, address, (lat, lon), extra
ORGS = [
    ("gen1", "深圳市华芯电子制造有限公司", ["generator"], "440306", "深圳市宝安区福永街道凤凰工业区8号",
     (22.6734, 113.8170)),
    ("gen2", "佛山市南海区顺达汽车维修服务部", ["generator"], "440605", "佛山市南海区桂城街道海八路12号",
     (23.0282, 113.1430)),
    ("gen3", "深圳某大学化学实验中心", ["generator"], "440305", "深圳市南山区学苑大道1088号",
     (22.5960, 113.9990)),
    ("op1", "东莞市绿源再生资源有限公司", ["operator"], "441900", "东莞市沙田镇环保工业园3号",
     (22.9200, 113.6100)),
    ("op2", "惠州市清源固废处置有限公司", ["operator"], "441302", "惠州市惠城区潼湖镇固废处置中心",
     (23.0700, 114.3000)),
    ("op3", "佛山市恒绿金属回收有限公司", ["operator"], "440605", "佛山市南海区狮山镇再生金属产业园",
     (23.1200, 113.0200)),
    ("carrier", "广东安运危险货物运输有限公司", ["carrier"], "440106", "广州市天河区黄埔大道西100号",
     (23.1300, 113.3300)),
    ("lab", "深圳市谱测检测技术有限公司", ["lab"], "440305", "深圳市南山区科技园南区检测大厦",
     (22.5400, 113.9500)),
    # Collection rounds (issue 13): a collector with its own vehicles, and small generators.
    ("collector", "深圳市安收环保收集服务有限公司", ["operator", "carrier"], "440306",
     "深圳市宝安区沙井街道环保产业园6号", (22.7300, 113.8300)),
    ("school", "深圳市龙岗区实验中学", ["generator"], "440307", "深圳市龙岗区龙城街道清林路2号",
     (22.7200, 114.2400)),
    ("repair2", "佛山市禅城区快修汽车服务中心", ["generator"], "440604",
     "佛山市禅城区汾江中路88号", (23.0300, 113.1100)),
]

# operator → (licence number, [(category, methods, operations, approved kg/year)])
LICENCES = {
    "op1": ("粤危废经营许可证 441900-001", [
        ("HW08", ["R9"], ["收集", "贮存", "利用"], 30_000_000),
        ("HW09", ["R9", "R15"], ["收集", "贮存", "利用"], 10_000_000)]),
    "op2": ("粤危废经营许可证 441302-002", [
        ("HW06", ["D10"], ["收集", "贮存", "处置"], 8_000_000),
        ("HW12", ["D10"], ["收集", "贮存", "处置"], 12_000_000),
        ("HW17", ["D9", "D1"], ["收集", "贮存", "处置"], 20_000_000),
        ("HW18", ["D1"], ["收集", "贮存", "处置"], 15_000_000),
        ("HW49", ["D10"], ["收集", "贮存", "处置"], 25_000_000)]),
    "op3": ("粤危废经营许可证 440605-003", [
        ("HW17", ["R4"], ["收集", "贮存", "利用"], 18_000_000),
        ("HW22", ["R4"], ["收集", "贮存", "利用"], 6_000_000),
        ("HW46", ["R4", "R8"], ["收集", "贮存", "利用"], 5_000_000),
        ("HW50", ["R8"], ["收集", "贮存", "利用"], 3_000_000)]),
    # a collection-only licence (收集 3 years): small lots on to licensed disposers
    "collector": ("粤危废收集许可证 440306-004", [
        ("HW08", ["R9"], ["收集", "贮存"], 2_000_000),
        ("HW49", ["D10"], ["收集", "贮存"], 1_000_000)]),
}

# Fictional staff names for the demo logins.
PEOPLE = {"gen1": "陈志强", "gen2": "黄少华", "gen3": "林晓敏", "op1": "刘建国", "op2": "张丽娟",
          "op3": "梁永辉", "carrier": "何国栋", "lab": "吴静怡", "reg-sz": "郑海燕", "reg-gd": "王立新",
          "finance": "周敏", "admin": "李涛", "collector": "邓志明",
          "school": "钟老师", "repair2": "冯师傅"}

PLATFORM = [("reg-sz", "深圳市生态环境局", "regulator", "440300", "4403"),
            ("reg-gd", "广东省生态环境厅", "regulator", "440000", "44"),
            ("finance", "Hazex platform", "platform", "440300", None),
            ("admin", "Hazex platform", "platform", "440300", None)]


def _validity() -> tuple[date, date]:
    """Valid through the current year and the next, as DESIGN.md §9a asks."""
    this_year = date.today().year
    return date(this_year - 1, 1, 1), date(this_year + 1, 12, 31)


def seed(collection: bool = False) -> list[tuple[str, str, str]]:
    """Create (or keep) the demo organisations, licences, permits and users; with collection
    (as `flask demo seed` does), also the collector's rounds with bookings in every state (their
    bank receipts and escrow movements stay out of tests that count those of their own)."""
    if current_app.config["HAZEX_ENV"] == "production":
        raise RuntimeError("demo data is refused in production")
    valid_from, valid_to = _validity()
    logins = []
    with transaction():
        orgs: dict[str, Organisation] = {}
        for i, (key, name, types, region, address, (lat, lon)) in enumerate(ORGS):
            code = credit_code(region, f"MA5D{i:05d}")
            org = db.session.scalar(select(Organisation).where(Organisation.credit_code == code))
            if org is None:
                org = Organisation(name=name, credit_code=code, kind="enterprise", types=types,
                                   region_code=region, address=address, latitude=lat, longitude=lon,
                                   status="verified")
                db.session.add(org)
                db.session.flush()
                record("demo.organisation_created", org)
            orgs[key] = org
        for key, name, kind, region, scope in PLATFORM:
            org = db.session.scalar(select(Organisation).where(Organisation.name == name,
                                                               Organisation.kind == kind))
            if org is None:
                org = Organisation(name=name, kind=kind, types=[], region_code=region,
                                   scope_prefix=scope, status="verified", address="")
                db.session.add(org)
                db.session.flush()
            orgs[key] = org
        for key, (number, items) in LICENCES.items():
            lic = db.session.scalar(select(Licence).where(Licence.number == number))
            if lic is None:
                lic = Licence(org_id=orgs[key].id, number=number,
                              kind="collection" if key == "collector" else "comprehensive",
                              valid_from=valid_from, valid_to=valid_to, status="verified")
                lic.items = [LicenceItem(category_code=c, codes=[], operations=ops, method_codes=m,
                                         approved_kg_per_year=kg) for c, m, ops, kg in items]
                db.session.add(lic)
        for key, kind, number in (("carrier", "transport", "粤交运管许可穗字440100000001号"),
                                  ("lab", "cma", "CMA 201919000001"),
                                  ("collector", "transport", "粤交运管许可深字440300000006号")):
            if db.session.scalar(select(Permit).where(Permit.number == number)) is None:
                db.session.add(Permit(org_id=orgs[key].id, kind=kind, number=number,
                                      valid_from=valid_from, valid_to=valid_to, status="verified"))
        password_hash = hash_password(DEMO_PASSWORD)
        for key, org in orgs.items():
            email = f"{key}@demo.hazex.cn"
            if db.session.scalar(select(User).where(User.email == email)) is None:
                role = key if key in ("admin", "finance") else None
                db.session.add(User(org_id=org.id, email=email, name=PEOPLE[key],
                                    password_hash=password_hash, is_org_admin=True,
                                    platform_role=role))
            logins.append((email, org.name, _role_label(key, org)))
        db.session.flush()
        _bank_accounts(orgs)
        if not collection:
            return logins
        users = {k: db.session.scalar(select(User).where(User.email == f"{e}@demo.hazex.cn"))
                 for k, e in (("collector", "collector"), ("finance", "finance"), ("lab", "gen3"),
                              ("school", "school"), ("repair1", "gen2"), ("repair2", "repair2"))}
        collection_demo.seed(users)
    return logins


def _bank_accounts(orgs: dict[str, Organisation]) -> None:
    """Every demo enterprise keeps a verified bank account on file, so payouts can go to it."""
    for i, (key, org) in enumerate(sorted(orgs.items())):
        if org.kind != "enterprise" or db.session.scalar(
                select(BankAccount.id).where(BankAccount.org_id == org.id)) is not None:
            continue
        db.session.add(BankAccount(org_id=org.id, account_name=org.name,
                                   bank_name="中国工商银行深圳分行",
                                   account_number=f"62220200{i:08d}", status="verified",
                                   changed_at=utcnow(), verified_at=utcnow()))


def _role_label(key: str, org: Organisation) -> str:
    if key in ("admin", "finance"):
        return key
    if org.kind == "regulator":
        return f"regulator {org.scope_prefix}"
    return org.types[0]
