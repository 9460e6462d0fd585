"""The webhooks page: an organisation's admin registers endpoints, reads the delivery log,
replays a delivery and switches a disabled endpoint back on (API: market/api/webhooks.py)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError
from market.web.forms import flash_outcome
from market.webhooks import services
from market.webhooks.models import EVENT_TYPES

bp = Blueprint("webhooks", __name__)


def _page(status: int = 200, *, secret: str | None = None, error: DomainError | None = None,
          url: str = "", events=()):
    endpoint_id = request.args.get("ep", type=int)
    shown = services.endpoint_of(current_user, endpoint_id) if endpoint_id else None
    log = services.deliveries_of(current_user, shown.id) if shown else []
    return render_template("webhooks/index.html", endpoints=services.endpoints_of(current_user),
                           event_types=EVENT_TYPES, secret=secret, error=error, url=url,
                           chosen=set(events), shown=shown, log=log), status


@bp.get("/webhooks")
@login_required
def index():
    return _page()


@bp.post("/webhooks")
@login_required
def create():
    url, events = request.form.get("url", ""), request.form.getlist("events")
    try:
        _ep, secret = services.create_endpoint(current_user, url, events)
    except DomainError as exc:
        return _page(422 if exc.field else 403, error=exc, url=url, events=events)
    return _page(201, secret=secret)


@bp.post("/webhooks/delete")
@login_required
def delete():
    ep_id = request.form.get("endpoint_id", type=int) or 0
    return flash_outcome(lambda: services.delete_endpoint(current_user, ep_id),
                         _("The endpoint was removed."), url_for("webhooks.index"))


@bp.post("/webhooks/enable")
@login_required
def enable():
    ep_id = request.form.get("endpoint_id", type=int) or 0
    return flash_outcome(lambda: services.enable_endpoint(current_user, ep_id),
                         _("The endpoint is on again; pending events are being sent."),
                         url_for("webhooks.index", ep=ep_id))


@bp.post("/webhooks/replay")
@login_required
def replay():
    ep_id = request.form.get("endpoint_id", type=int) or 0
    d_id = request.form.get("delivery_id", type=int) or 0
    return flash_outcome(lambda: services.replay(current_user, ep_id, d_id),
                         _("The event is being sent again."),
                         url_for("webhooks.index", ep=ep_id))


