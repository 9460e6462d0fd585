"""Use cases of sampling orders: request a test, the lab's acceptance and sampling, cancelling.

Lock order, everywhere: the trade order row, then its sampling order row. The trade order is the
unit both the parties' and the lab's use cases change (its lines, its status), so taking it first
serialises them.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.contracts.access import party_order
from market.db import utcnow
from market.errors import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed
from market.listings import validation as v
from market.notifications.messages import as_date, as_money, message, verbatim
from market.notifications.services import notify_org
from market.orders.models import Order, OrderLine
from market.sampling import state
from market.sampling.analytes import ANALYTES
from market.sampling.models import SamplingOrder
from market.sampling.queries import accredited_lab, live_for_order
from market.uow import transaction
from market.web.i18n import date as shown_date

MAX_FEE_FEN = 10**9  # ¥10 m: far beyond any laboratory fee; guards against typing errors


def move(so: SamplingOrder, to: str, role: str) -> None:
    """Move a sampling order through its state table, refusing what the table does not list."""
    problem = state.problem(so.status, to, role)
    if problem == "invalid_transition":
        raise InvalidState(_("Sampling order %(number)s is %(status)s and cannot become %(to)s.",
                             number=so.number, status=status_word(so.status), to=status_word(to)),
                           code="invalid_transition")
    if problem == "actor_not_allowed":
        raise PermissionDenied(_("You may not move this sampling order to %(to)s.",
                                 to=status_word(to)), code="actor_not_allowed")
    so.status = to


def status_word(status: str) -> str:
    """A sampling status in the reader's language."""
    return {"requested": _("requested"), "accepted": _("accepted by the lab"),
            "sample_collected": _("sample collected"), "reported": _("reported"),
            "closed": _("closed"), "cancelled": _("cancelled")}.get(status, status)


def analyte_codes(values) -> list[str]:
    """Known analyte codes, deduplicated, in the list's order; at least one."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValidationFailed(_("Choose the analytes as a list."), field="analytes")
    unknown = [str(x) for x in values if x not in ANALYTES]
    if unknown:
        raise ValidationFailed(_("Unknown analyte(s): %(codes)s. Choose from: %(known)s.",
                                 codes=", ".join(unknown[:5]), known=", ".join(ANALYTES)),
                               field="analytes")
    chosen = [code for code in ANALYTES if code in values]
    if not chosen:
        raise ValidationFailed(_("Choose at least one analyte."), field="analytes")
    return chosen


def request_sampling(actor: User, order_id: int, *, lab_org_id, analytes) -> SamplingOrder:
    """A party sends the order's waste to an accredited lab for the chosen analytes."""
    with transaction():
        order, role = party_order(actor, order_id, lock=True)
        if order.status != "sampling":
            raise InvalidState(_("Order %(number)s is not awaiting a sampling test.",
                                 number=order.number), code="order_not_sampling")
        if live_for_order(order.id) is not None:
            raise Conflict(_("This order already has a sampling order in progress."),
                           code="sampling_exists")
        codes = analyte_codes(analytes)
        lab, permit = accredited_lab(lab_org_id)
        if lab.id in (order.generator_id, order.operator_id):
            raise ValidationFailed(_("The laboratory must be independent of both parties."),
                                   field="lab_org_id", code="lab_not_independent")
        count = db.session.scalar(select(func.count()).select_from(SamplingOrder)
                                  .where(SamplingOrder.order_id == order.id)) or 0
        disposal = order.line("disposal")
        so = SamplingOrder(number=f"{order.number}-S{count + 1}", order_id=order.id, lab_id=lab.id,
                           permit_id=permit.id, requested_by_id=actor.id, requested_by_role=role,
                           analytes=codes, status="requested",
                           quoted_price_fen_per_t=disposal.unit_price_fen_per_t if disposal else None)
        db.session.add(so)
        db.session.flush()
        record("sampling.requested", so, actor=actor, changes={
            "order": order.number, "lab_id": lab.id, "cma": permit.number, "analytes": codes})
        link = f"/sampling/{so.id}"
        notify_org(lab.id, "sampling.requested",
                   message("New sampling order %(number)s from %(org)s.", number=so.number,
                           org=actor.org.name), link=link)
        notify_org(order.other_party(actor.org_id), "sampling.requested",
                   message("Sampling order %(number)s was sent to %(lab)s.", number=so.number, lab=lab.name),
                   link=link)
        return so


def _lock_sampling(sampling_id: int) -> SamplingOrder:
    """The sampling order under its row lock, freshly read; take the trade order's lock first."""
    return db.session.scalar(select(SamplingOrder).where(SamplingOrder.id == sampling_id)
                             .with_for_update().execution_options(populate_existing=True))


def _lab_sampling(actor: User, sampling_id: int) -> tuple[SamplingOrder, Order]:
    """The lab's own sampling order with its trade order, both locked (order first)."""
    order_id = db.session.scalar(select(SamplingOrder.order_id).where(
        SamplingOrder.id == sampling_id, SamplingOrder.lab_id == actor.org_id))
    if order_id is None or actor.platform_role:
        raise NotFound(_("No such sampling order."))
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True))
    return _lock_sampling(sampling_id), order


def _order_still_sampling(order: Order) -> None:
    if order.status != "sampling":
        raise InvalidState(_("Order %(number)s is no longer awaiting a sampling test.",
                             number=order.number), code="order_not_sampling")


def lab_accept(actor: User, sampling_id: int, *, fee_fen) -> SamplingOrder:
    """The lab takes the order at its fee, which becomes an order line payable to the lab (due)."""
    with transaction():
        so, order = _lab_sampling(actor, sampling_id)
        fee = v.money_fen(fee_fen, "fee_fen", negative=False)
        if fee > MAX_FEE_FEN:
            raise ValidationFailed(_("A sampling fee is at most %(max)s.", max="¥10,000,000.00"),
                                   field="fee_fen")
        move(so, "accepted", "lab")
        _order_still_sampling(order)
        _lab, permit = accredited_lab(actor.org_id)  # may have lapsed since it was chosen
        line = OrderLine(kind="sampling", payee_org_id=so.lab_id, unit_price_fen_per_t=None,
                         quantity_kg=order.quantity_kg, amount_fen=fee)
        order.lines.append(line)
        db.session.flush()
        so.permit_id, so.fee_fen, so.fee_line_id, so.fee_status = permit.id, fee, line.id, "due"
        so.accepted_at = utcnow()
        record("sampling.accepted", so, actor=actor, changes={"fee_fen": fee, "cma": permit.number})
        record("order.line_added", order, actor=actor, changes={
            "kind": "sampling", "payee_org_id": so.lab_id, "amount_fen": fee, "fee_status": "due"})
        for org_id in (order.generator_id, order.operator_id):
            notify_org(org_id, "sampling.accepted",
                       message("%(lab)s accepted sampling order %(number)s for %(fee)s.",
                               lab=actor.org.name, number=so.number, fee=as_money(fee)),
                       link=f"/sampling/{so.id}")
        return so


def lab_collect(actor: User, sampling_id: int, *, collected_on, sampler, custody_number) -> SamplingOrder:
    """The lab records the sampling: date, sampler and chain-of-custody number."""
    with transaction():
        so, order = _lab_sampling(actor, sampling_id)
        day = v.a_date(collected_on, "collected_on")
        if day > v.today():
            raise ValidationFailed(_("The sampling date cannot be in the future."), field="collected_on")
        if so.accepted_at and day < so.accepted_at.date():
            raise ValidationFailed(_("The sample cannot be taken before the lab accepted the order (%(d)s).",
                                     d=shown_date(so.accepted_at)), field="collected_on")
        who = v.text(sampler, "sampler", 100, required=True)
        custody = v.text(custody_number, "custody_number", 60, required=True)
        move(so, "sample_collected", "lab")
        _order_still_sampling(order)
        so.collected_on, so.sampler, so.custody_number = day, who, custody
        record("sampling.collected", so, actor=actor, changes={
            "collected_on": day.isoformat(), "sampler": who, "custody_number": custody})
        for org_id in (order.generator_id, order.operator_id):
            notify_org(org_id, "sampling.collected",
                       message("The sample for %(number)s was taken on %(day)s.", number=so.number,
                               day=as_date(day)), link=f"/sampling/{so.id}")
        return so


def _cancel(so: SamplingOrder, order: Order, actor: User, role: str, reason: str) -> None:
    frm = so.status
    move(so, "cancelled", role)
    so.cancelled_at, so.cancel_reason = utcnow(), v.text(reason, "reason", 1000) or None
    if state.voids_fee(frm) and so.fee_line_id is not None:
        # No sample taken: the lab is owed nothing, so its line leaves the order.
        line = db.session.get(OrderLine, so.fee_line_id)
        order.lines.remove(line)
        so.fee_line_id, so.fee_status = None, "void"
    record("sampling.cancelled", so, actor=actor, changes={
        "from": frm, "by": role, "reason": so.cancel_reason, "fee_status": so.fee_status})
    for org_id in {order.generator_id, order.operator_id, so.lab_id} - {actor.org_id}:
        notify_org(org_id, "sampling.cancelled",
                   message("Sampling order %(number)s was cancelled.", number=so.number),
                   verbatim(so.cancel_reason), link=f"/sampling/{so.id}")


def withdraw_for_cancelled_order(order: Order, actor: User) -> SamplingOrder | None:
    """Withdraw the trade order's sampling order if no sample is taken yet (the order is ending).

    Runs inside the cancelling use case, which holds the trade order's lock. Once the sample is
    taken the lab has done paid work: its sampling order stays, and so does its fee.
    """
    so = live_for_order(order.id, lock=True)
    if so is None or not state.voids_fee(so.status):
        return None
    _cancel(so, order, actor, "system",
            _("Order %(number)s was cancelled.", number=order.number))
    return so


def cancel_sampling(actor: User, sampling_id: int, reason: str = "") -> SamplingOrder:
    """Withdraw (a party) or decline (the lab) a sampling order before the sample is taken."""
    with transaction():
        row = db.session.execute(select(SamplingOrder.order_id, SamplingOrder.lab_id)
                                 .where(SamplingOrder.id == sampling_id)).first()
        if row is None:
            raise NotFound(_("No such sampling order."))
        order_id, lab_id = row
        if actor.org_id == lab_id and not actor.platform_role:
            so, order = _lab_sampling(actor, sampling_id)
            role = "lab"
        else:
            order, role = party_order(actor, order_id, lock=True)
            so = _lock_sampling(sampling_id)
        _cancel(so, order, actor, role, reason)
        return so
