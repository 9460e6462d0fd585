from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from market.notifications import services
from market.notifications.queries import inbox
from market.web.inputs import form_int

bp = Blueprint("notifications", __name__)


@bp.get("/inbox")
@login_required
def index():
    return render_template("notifications/inbox.html", notes=inbox(current_user.id))


@bp.post("/inbox/read")
@login_required
def mark_read():
    note_id = form_int("id")
    services.mark_read(current_user, note_id)
    return redirect(url_for("notifications.index"))
