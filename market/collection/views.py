"""Collection rounds on the web (issue 13), made for a phone: a small generator finds the rounds
serving its district, books in three steps (find → book → pay by bank reference), and follows its
booking; the collector publishes rounds and runs them (start, each stop, the depot's receipt);
regulators read rounds and bookings in their scope."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market import db
from market.collection import queries, run, services
from market.collection.forms import (PUBLISH_FIELD_MAP, BookForm, CancelForm, PickupForm,
                                     PublishForm, ReceiveForm, StartForm)
from market.collection.models import CollectionRound
from market.errors import DomainError, NotFound, PermissionDenied
from market.escrow import funding
from market.jobs.schedule import TZ
from market.web.forms import attach_error, flash_outcome, form_status
from market.web.inputs import whole_number

bp = Blueprint("collection", __name__)


@bp.before_request
def regulators_read_only():
    if request.method == "POST" and current_user.is_authenticated and current_user.is_regulator:
        raise PermissionDenied(_("Regulators read; they change nothing."))


def _round_url(round_id: int) -> str:
    return url_for("collection.round_page", round_id=round_id)


def _booking_url(booking_id: int) -> str:
    return url_for("collection.booking_page", booking_id=booking_id)


@bp.get("/collection")
@login_required
def index():
    """Step 1: the rounds serving the generator's district in the next weeks; the collector's
    rounds; a regulator's scope."""
    user = current_user
    region = (request.args.get("region") or user.org.region_code or "").strip()[:6]
    category = (request.args.get("category") or "").strip().upper()[:4] or None
    rounds = queries.open_rounds(region=region or None, category=category) \
        if user.org.has_type("generator") else []
    return render_template(
        "collection/index.html", rounds=rounds, region=region, category=category or "",
        bookings=[queries.booking_json(b) for b in queries.bookings_of_generator(user.org_id)]
        if user.org.kind == "enterprise" else [],
        my_rounds=queries.rounds_of_operator(user.org_id) if user.org.has_type("operator") else [],
        scope=queries.scope_summary(user.org.scope_prefix) if user.is_regulator else None)


@bp.route("/collection/book", methods=["GET", "POST"])
@login_required
def book():
    """Step 2: book a place on a round (the round is a public listing, chosen on step 1)."""
    form = BookForm()
    round_id = whole_number(request.values.get("round_id"), "round_id")  # 2**63 was a 500
    if round_id is None:
        return redirect(url_for("collection.index"))  # choose a round first
    r = db.session.get(CollectionRound, round_id)
    if r is None or r.status != "published":
        raise NotFound(_("No such collection round."))
    form.category.choices = [(c, c) for c in r.categories]
    if request.method == "GET":
        form.round_id.data = r.id
        form.region_code.data = current_user.org.region_code
        form.address.data = current_user.org.address
    elif form.validate_on_submit():
        try:
            booking = services.book_round(current_user, r.id, form.service_data())
        except NotFound:
            raise
        except DomainError as exc:
            attach_error(form, exc)
        else:
            flash(_("Booked. Pay the amount below into escrow to keep your place."), "success")
            return redirect(_booking_url(booking.id))
    return render_template("collection/book.html", form=form, r=queries.round_json(r)), \
        form_status(form)


@bp.get("/collection/bookings/<int:booking_id>")
@login_required
def booking_page(booking_id):
    """Step 3: what to pay and where, then the booking's progress and money."""
    b = queries.visible_booking(current_user, booking_id)
    view = queries.booking_json(b)
    order = services.order_of(b)
    pay = None
    if view["status"] == "awaiting_payment" or view["topup_fen"]:
        req = next((q for q in funding.requests_of(order.id)
                    if q.payer_org_id == current_user.org_id and q.status == "open"), None)
        if req is not None:
            pay = {"amount_fen": funding.due_fen(req), "reference": req.reference}
    return render_template("collection/booking.html", b=view, booking=b, r=b.round, pay=pay,
                           manifest=run.manifest_of(b), cancel_form=CancelForm(),
                           pickup_form=PickupForm(),
                           mine=current_user.org_id == b.generator_id,
                           collector=current_user.org_id == b.round.operator_id)


@bp.post("/collection/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id):
    queries.visible_booking(current_user, booking_id)
    form = CancelForm()
    return flash_outcome(lambda: services.cancel_booking(current_user, booking_id,
                                                         form.reason.data or ""),
                         _("Booking cancelled."), _booking_url(booking_id), form=form)


@bp.post("/collection/bookings/<int:booking_id>/pickup")
@login_required
def pickup(booking_id):
    b = queries.visible_booking(current_user, booking_id)
    form = PickupForm()
    data = ({"no_show": True, "note": form.note.data or ""} if form.no_show.data
            else {"weighed_kg": form.weighed_kg.data})
    return flash_outcome(lambda: run.pickup(current_user, booking_id, data,
                                            ip=request.remote_addr),
                         _("Stop recorded."), _round_url(b.round_id), form=form)


@bp.route("/collection/rounds/new", methods=["GET", "POST"])
@login_required
def publish():
    form = PublishForm()
    if request.method == "GET":
        form.region_codes.data = current_user.org.region_code
    elif form.validate_on_submit():
        try:
            rounds = services.publish_round(current_user, form.service_data(TZ))
        except DomainError as exc:
            attach_error(form, exc, PUBLISH_FIELD_MAP)
        else:
            flash(_("Round %(number)s published.", number=rounds[0].number), "success")
            return redirect(_round_url(rounds[0].id))
    return render_template("collection/publish.html", form=form), form_status(form)


@bp.get("/collection/rounds/<int:round_id>")
@login_required
def round_page(round_id):
    r = queries.visible_round(current_user, round_id)
    bookings = run.bookings_of(r.id)
    return render_template("collection/round.html", r=queries.round_json(r), rnd=r,
                           bookings=[(b, queries.booking_json(b)) for b in bookings],
                           collector=current_user.org_id == r.operator_id,
                           start_form=StartForm(), pickup_form=PickupForm(),
                           receive_form=ReceiveForm())


@bp.post("/collection/rounds/<int:round_id>/start")
@login_required
def start(round_id):
    queries.visible_round(current_user, round_id)
    form = StartForm()
    return flash_outcome(lambda: run.start_round(current_user, round_id, {
        "vehicle_plate": form.vehicle_plate.data, "driver_name": form.driver_name.data,
        "driver_phone": form.driver_phone.data}), _("Round started: one manifest per booking."),
        _round_url(round_id), form=form)


@bp.post("/collection/rounds/<int:round_id>/receive")
@login_required
def receive(round_id):
    r = queries.visible_round(current_user, round_id)
    form = ReceiveForm()
    rows = []
    for b in run.bookings_of(r.id, "picked_up"):
        raw = (request.form.get(f"received_{b.id}") or "").strip()
        kg = int(raw) if raw.isascii() and raw.isdigit() else raw
        rows.append({"booking_id": b.id, "received_kg": kg,
                     "comment": request.form.get(f"comment_{b.id}") or ""})
    return flash_outcome(lambda: run.receive_trip(current_user, round_id, {
        "method_code": form.method_code.data, "bookings": rows}, ip=request.remote_addr),
        _("Trip received; each booking settles on its own."), _round_url(round_id), form=form)
