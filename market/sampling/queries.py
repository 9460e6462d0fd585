"""Read side of sampling: accredited labs, who sees which sampling order, results and flags."""
from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from market import db
from market.accounts.models import Organisation, Permit, User
from market.contracts.access import viewer_role
from market.errors import NotFound, PermissionDenied, ValidationFailed
from market.listings.models import DisposalRequest
from market.listings.validation import today
from market.orders.models import Order
from market.region_scope import sampling_covered, sampling_in_region
from market.sampling import profile, state
from market.sampling.analytes import display
from market.sampling.models import SamplingOrder
from market.web.i18n import date as shown_date


def valid_cma(org_id: int) -> Permit | None:
    """The lab's verified CMA accreditation valid today (the one lasting longest), or None."""
    day = today()
    return db.session.scalar(select(Permit).where(
        Permit.org_id == org_id, Permit.kind == "cma", Permit.status == "verified",
        Permit.valid_from <= day, Permit.valid_to >= day).order_by(Permit.valid_to.desc()).limit(1))


def accredited_lab(lab_org_id, field: str = "lab_org_id") -> tuple[Organisation, Permit]:
    """A verified lab holding a CMA accreditation valid today, or a refusal naming the rule."""
    lab = db.session.get(Organisation, lab_org_id) if isinstance(lab_org_id, int) else None
    if lab is None or lab.kind != "enterprise" or not lab.has_type("lab"):
        raise ValidationFailed(_("Choose a laboratory from the list."), field=field, code="no_such_lab")
    if not lab.is_verified:
        raise PermissionDenied(_("%(lab)s is not a verified organisation and cannot take sampling orders.",
                                 lab=lab.name), field=field, code="lab_not_verified")
    permit = valid_cma(lab.id)
    if permit is None:
        raise PermissionDenied(_("%(lab)s holds no verified CMA accreditation valid today (%(day)s); "
                                 "choose an accredited laboratory.", lab=lab.name,
                                 day=shown_date(today())), field=field, code="lab_not_accredited")
    return lab, permit


def accredited_labs() -> list[tuple[Organisation, Permit]]:
    """Every lab that could take a sampling order today, by region code then name."""
    day = today()
    rows = db.session.execute(
        select(Organisation, Permit).join(Permit, Permit.org_id == Organisation.id)
        .where(Organisation.types.contains(["lab"]), Organisation.status == "verified",
               Organisation.kind == "enterprise", Permit.kind == "cma", Permit.status == "verified",
               Permit.valid_from <= day, Permit.valid_to >= day)
        .order_by(Organisation.region_code, Organisation.name, Permit.valid_to.desc())).all()
    seen: dict[int, tuple[Organisation, Permit]] = {}
    for org, permit in rows:
        seen.setdefault(org.id, (org, permit))
    return list(seen.values())


def sampling_role(user: User, so: SamplingOrder) -> str | None:
    """lab / generator / operator / admin / finance / regulator, or None."""
    if user.org_id == so.lab_id and not user.platform_role:
        return "lab"
    role = viewer_role(user, so.order)
    if role is None and user.is_regulator and sampling_covered(user.org.scope_prefix, so.id):
        return "regulator"
    return role


def visible_sampling(user: User, sampling_id: int) -> tuple[SamplingOrder, str]:
    """A sampling order and the user's role on it; 404 for anyone who may not see it."""
    so = db.session.get(SamplingOrder, sampling_id)
    role = sampling_role(user, so) if so is not None else None
    if role is None:
        raise NotFound(_("No such sampling order."))
    return so, role


def sampling_orders_for(user: User, limit: int = 300) -> list[SamplingOrder]:
    """Sampling orders the user may see: its lab's, its orders', a regulator's region's, or all."""
    stmt = select(SamplingOrder).join(Order, Order.id == SamplingOrder.order_id)
    if user.is_regulator:
        stmt = stmt.where(sampling_in_region(user.org.scope_prefix))
    elif not user.is_platform:
        stmt = stmt.where(or_(SamplingOrder.lab_id == user.org_id, Order.generator_id == user.org_id,
                              Order.operator_id == user.org_id))
    return list(db.session.scalars(stmt.order_by(SamplingOrder.id.desc()).limit(limit)))


def for_order(order_id: int) -> list[SamplingOrder]:
    """Every sampling order of a trade order, oldest first."""
    return list(db.session.scalars(select(SamplingOrder).where(SamplingOrder.order_id == order_id)
                                   .order_by(SamplingOrder.id)))


def live_for_order(order_id: int, *, lock: bool = False) -> SamplingOrder | None:
    """The trade order's sampling order still in progress (requested … reported), if any."""
    stmt = select(SamplingOrder).where(SamplingOrder.order_id == order_id,
                                       SamplingOrder.status.in_(state.LIVE))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def declared_profile(order: Order) -> profile.Declared:
    """The form and hazards the generator declared on its request (none for storefront orders)."""
    if order.request_id:
        req = db.session.get(DisposalRequest, order.request_id)
        return profile.Declared(form=req.form, hazards=tuple(req.hazards or ()))
    return profile.Declared(form=None, hazards=())


def result_flags(so: SamplingOrder) -> list[profile.Flag]:
    """The sampling order's results that lie outside the order's declared profile."""
    values: dict[str, Decimal] = {r.analyte: r.value for r in so.results}
    return profile.flags(declared_profile(so.order), values,
                         current_app.config.get("SAMPLING_METAL_LIMITS_MG_KG"))


def flag_message(flag: profile.Flag) -> str:
    """The flag in the reader's language."""
    value, limit = profile_number(flag.value), profile_number(flag.limit)
    if flag.rule == "halogen_high":
        return _("Halogens %(value)s %% exceed %(limit)s %%: halogenated waste, not in the declared "
                 "profile.", value=value, limit=limit)
    if flag.rule == "metal_above_threshold":
        return _("%(metal)s %(value)s mg/kg is above the platform threshold of %(limit)s mg/kg.",
                 metal=flag.analyte, value=value, limit=limit)
    if flag.rule == "ignitable_undeclared":
        return _("Flash point %(value)s °C is below %(limit)s °C (ignitable), but ignitability was "
                 "not declared.", value=value, limit=limit)
    if flag.rule == "corrosive_undeclared":
        return _("pH %(value)s is corrosive (≤ 2 or ≥ 12.5), but corrosivity was not declared.",
                 value=value)
    return _("Water %(value)s %% exceeds %(limit)s %% although the waste was declared solid.",
             value=value, limit=limit)


def profile_number(value: Decimal) -> str:
    """A flag's value or limit as people write it."""
    return display(Decimal(value))
