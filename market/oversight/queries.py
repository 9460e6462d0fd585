"""The regulator's reads (DESIGN.md §8), each scoped by the one region rule: alerts, the dashboard's
counts, flows between regions, capacity against demand, organisations and their profiles.

`prefix` is the regulator's region prefix; None means every region (platform staff).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, User
from market.catalog.models import Region, WasteCategory
from market.errors import NotFound, PermissionDenied
from market.listings.models import CapacityReservation, DisposalRequest
from market.manifests.models import Manifest, ManifestLine
from market.orders.models import Order, OrderLine
from market.oversight.feed import TZ
from market.oversight.models import Alert, CreditScore, Sanction
from market.region_scope import order_in_region, region_matches
from market.settlement.models import Settlement, SettlementLine


def prefix_of(user: User) -> str | None:
    """The region a user oversees: a regulator's prefix, None (everything) for platform staff;
    anyone else may not use the regulator workspace."""
    if user.is_regulator:
        return user.org.scope_prefix or "-"
    if user.is_platform:
        return None
    raise PermissionDenied(_("This is for regulators."))


def _alerts_in(prefix: str | None, stmt: Select) -> Select:
    if prefix is None:
        return stmt
    return stmt.where(or_(region_matches(Alert.generator_region, prefix),
                          region_matches(Alert.pickup_region, prefix),
                          region_matches(Alert.operator_region, prefix)))


def alerts(prefix: str | None, *, status: str | None = None, org_id: int | None = None,
           after_id: int | None = None, limit: int = 200) -> list[Alert]:
    """Alerts in the region, newest first unless paging (then by id ascending)."""
    stmt = _alerts_in(prefix, select(Alert))
    if status:
        stmt = stmt.where(Alert.status == status)
    if org_id is not None:
        stmt = stmt.where(or_(Alert.generator_org_id == org_id, Alert.operator_org_id == org_id,
                              Alert.carrier_org_id == org_id))
    if after_id is not None:
        stmt = stmt.where(Alert.id > after_id).order_by(Alert.id)
    else:
        stmt = stmt.order_by(Alert.id.desc())
    return list(db.session.scalars(stmt.limit(limit)))


def alerts_query(prefix: str | None, status: str | None = None) -> Select:
    """A select of the alerts in the region (of one status, if given), unordered (a feed's base)."""
    stmt = _alerts_in(prefix, select(Alert))
    return stmt.where(Alert.status == status) if status else stmt


def visible_alert(prefix: str | None, alert_id: int, *, lock: bool = False) -> Alert:
    stmt = _alerts_in(prefix, select(Alert).where(Alert.id == alert_id))
    alert = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if alert is None:
        raise NotFound(_("No such alert."))
    return alert


def alert_counts(prefix: str | None) -> dict[str, int]:
    stmt = _alerts_in(prefix, select(Alert.status, func.count()).group_by(Alert.status))
    return dict(db.session.execute(stmt).all())


def orders_in(prefix: str | None, stmt: Select) -> Select:
    return stmt if prefix is None else stmt.where(order_in_region(prefix))


def order_counts(prefix: str | None) -> dict[str, int]:
    stmt = orders_in(prefix, select(Order.status, func.count()).group_by(Order.status))
    return dict(db.session.execute(stmt).all())


def _since(days: int) -> datetime:
    return datetime.combine(date.today() - timedelta(days=days), time(), TZ)


def region_names(codes: set[str]) -> dict[str, str]:
    rows = db.session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
    return dict(rows.all())


def flows(prefix: str | None, days: int = 365) -> list[dict]:
    """Received tonnage by origin city (the pickup region) → destination city (the receiver's
    region) and category, over received manifests of the last `days` days."""
    origin = func.rpad(func.left(Order.region_code, 4), 6, "0")
    dest = func.rpad(func.left(Organisation.region_code, 4), 6, "0")
    kg = func.sum(func.coalesce(ManifestLine.received_kg, 0) - func.coalesce(ManifestLine.refused_kg, 0))
    stmt = orders_in(prefix, select(origin, dest, ManifestLine.category_code, kg)
                     .join(Manifest, Manifest.id == ManifestLine.manifest_id)
                     .join(Order, Order.id == Manifest.order_id)
                     .join(Organisation, Organisation.id == Manifest.receiver_org_id)
                     .where(Manifest.status.in_(("received", "closed")),
                            Manifest.received_at >= _since(days))
                     .group_by(origin, dest, ManifestLine.category_code)
                     .order_by(kg.desc()))
    rows = db.session.execute(stmt).all()
    names = region_names({r[0] for r in rows} | {r[1] for r in rows})
    return [{"origin": o, "origin_name": names.get(o, o), "destination": d,
             "destination_name": names.get(d, d), "category": c, "kg": int(k)}
            for o, d, c, k in rows if k]


def capacity(prefix: str | None, year: int | None = None) -> list[dict]:
    """Per category and operator city: licensed kg/year (verified licences valid this year),
    reserved (active reservations), received (manifests this year) and open demand (open
    requests); `short` when reserved + open demand exceeds what is licensed."""
    year = year or date.today().year
    start, end = date(year, 1, 1), date(year, 12, 31)
    city = func.rpad(func.left(Organisation.region_code, 4), 6, "0")
    in_region = (lambda col: True) if prefix is None else (lambda col: region_matches(col, prefix))
    licensed = db.session.execute(
        select(LicenceItem.category_code, city, func.sum(LicenceItem.approved_kg_per_year))
        .join(Licence, Licence.id == LicenceItem.licence_id)
        .join(Organisation, Organisation.id == Licence.org_id)
        .where(Licence.status == "verified", Licence.valid_from <= end, Licence.valid_to >= start,
               in_region(Organisation.region_code))
        .group_by(LicenceItem.category_code, city)).all()
    reserved = db.session.execute(
        select(LicenceItem.category_code, city, func.sum(CapacityReservation.kg))
        .join(LicenceItem, LicenceItem.id == CapacityReservation.licence_item_id)
        .join(Licence, Licence.id == LicenceItem.licence_id)
        .join(Organisation, Organisation.id == Licence.org_id)
        .where(CapacityReservation.year == year, CapacityReservation.released_at.is_(None),
               in_region(Organisation.region_code))
        .group_by(LicenceItem.category_code, city)).all()
    received = db.session.execute(
        select(ManifestLine.category_code, city,
               func.sum(func.coalesce(ManifestLine.received_kg, 0)
                        - func.coalesce(ManifestLine.refused_kg, 0)))
        .join(Manifest, Manifest.id == ManifestLine.manifest_id)
        .join(Organisation, Organisation.id == Manifest.receiver_org_id)
        .where(Manifest.status.in_(("received", "closed")),
               Manifest.received_at >= datetime.combine(start, time(), TZ),
               in_region(Organisation.region_code))
        .group_by(ManifestLine.category_code, city)).all()
    req_city = func.rpad(func.left(DisposalRequest.region_code, 4), 6, "0")
    demand = db.session.execute(
        select(DisposalRequest.category_code, req_city, func.sum(DisposalRequest.quantity_kg))
        .where(DisposalRequest.status == "open", in_region(DisposalRequest.region_code))
        .group_by(DisposalRequest.category_code, req_city)).all()
    table: dict[tuple[str, str], dict] = {}
    for name, rows in (("licensed_kg", licensed), ("reserved_kg", reserved),
                       ("received_kg", received), ("open_demand_kg", demand)):
        for cat, region, kg in rows:
            cell = table.setdefault((cat, region), {"category": cat, "region": region,
                                                    "licensed_kg": 0, "reserved_kg": 0,
                                                    "received_kg": 0, "open_demand_kg": 0})
            cell[name] += int(kg or 0)
    names = region_names({r for _c, r in table})
    out = []
    for (cat, region), cell in sorted(table.items()):
        cell["region_name"] = names.get(region, region)
        cell["short"] = cell["reserved_kg"] + cell["open_demand_kg"] > cell["licensed_kg"]
        out.append(cell)
    return out


def organisations(prefix: str | None) -> list[Organisation]:
    stmt = select(Organisation).where(Organisation.kind == "enterprise").order_by(Organisation.name)
    if prefix is not None:
        stmt = stmt.where(region_matches(Organisation.region_code, prefix))
    return list(db.session.scalars(stmt))


def visible_organisation(user: User, org_id: int) -> Organisation:
    """A profile: regulators see their region's organisations, staff all, members their own."""
    org = db.session.get(Organisation, org_id)
    ok = org is not None and (
        user.org_id == org_id or user.is_platform
        or (user.is_regulator and org.kind == "enterprise"
            and org.region_code.startswith(user.org.scope_prefix or "-")))
    if not ok:
        raise NotFound(_("Not found."))
    return org


def sanctions_of(org_id: int) -> list[Sanction]:
    return list(db.session.scalars(select(Sanction).where(Sanction.org_id == org_id)
                                   .order_by(Sanction.valid_from.desc(), Sanction.id.desc())))


def credit_of(org_id: int) -> CreditScore | None:
    return db.session.get(CreditScore, org_id)


def profile(org: Organisation, prefix: str | None = None) -> dict:
    """What a profile shows: licences, recent orders and manifests, money, alerts (those in the
    viewer's region), credit."""
    licences = list(db.session.scalars(select(Licence).where(Licence.org_id == org.id)
                                       .order_by(Licence.valid_to.desc())))
    party = or_(Order.generator_id == org.id, Order.operator_id == org.id)
    orders = list(db.session.scalars(select(Order).where(party).order_by(Order.id.desc()).limit(20)))
    manifests = list(db.session.scalars(
        select(Manifest).where(or_(Manifest.generator_org_id == org.id,
                                   Manifest.receiver_org_id == org.id,
                                   Manifest.carrier_org_id == org.id))
        .order_by(Manifest.id.desc()).limit(20)))
    money = money_flows(org.id)
    return {"org": org, "licences": licences, "orders": orders, "manifests": manifests,
            "money": money, "alerts": alerts(prefix, org_id=org.id, limit=50),
            "credit": credit_of(org.id), "sanctions": sanctions_of(org.id)}


def money_flows(org_id: int) -> dict[str, int]:
    """Settled value the organisation paid and was paid, and the platform fees on what it was paid."""
    line = SettlementLine
    row = db.session.execute(
        select(func.coalesce(func.sum(line.value_fen).filter(line.payer_org_id == org_id), 0),
               func.coalesce(func.sum(line.value_fen).filter(line.payee_org_id == org_id), 0),
               func.coalesce(func.sum(line.fee_fen).filter(line.payee_org_id == org_id), 0))
        .join(Settlement, Settlement.id == line.settlement_id)
        .where(Settlement.status == "settled")).one()
    return {"paid_fen": int(row[0]), "received_fen": int(row[1]), "fees_fen": int(row[2])}


def settled_prices(prefix: str | None, days: int = 90) -> list[dict]:
    """Disposal lines settled in the region over the last `days` days, per category: trades,
    tonnes and the volume-weighted unit price (fen/t). Settled prices, not the published index."""
    kg = Settlement.accepted_kg
    price = OrderLine.unit_price_fen_per_t
    stmt = orders_in(prefix, select(
        Order.category_code, func.count(), func.sum(kg),
        func.sum(price * kg) / func.nullif(func.sum(kg), 0))
        .select_from(SettlementLine)
        .join(Settlement, Settlement.id == SettlementLine.settlement_id)
        .join(OrderLine, OrderLine.id == SettlementLine.line_id)
        .join(Order, Order.id == Settlement.order_id)
        .where(Settlement.status == "settled", SettlementLine.kind == "disposal",
               Settlement.settled_at >= _since(days))
        .group_by(Order.category_code).order_by(Order.category_code))
    return [{"category": c, "trades": int(n), "kg": int(k or 0),
             "vwap_fen_per_t": None if v is None else int(round(v))}
            for c, n, k, v in db.session.execute(stmt)]


def category_names() -> dict[str, str]:
    return dict(db.session.execute(select(WasteCategory.code, WasteCategory.name)).all())
