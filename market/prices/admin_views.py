"""Administrators' price pages, on the admin blueprint (its before_request admits admins only):
ask for a publication and watch its progress (the page polls the run's JSON), keep the
government tariffs."""
from __future__ import annotations

from datetime import date

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from market import db
from market.admin.views import bp
from market.errors import ValidationFailed
from market.prices import jobs as runs
from market.prices import queries
from market.prices.forms import RunForm, TariffForm
from market.prices.models import GovernmentTariff, PublicationRun
from market.prices.services import set_tariff


def _page(run_form: RunForm, tariff_form: TariffForm, status: int = 200):
    recent = db.session.scalars(select(PublicationRun).order_by(PublicationRun.id.desc())
                                .limit(20)).all()
    tariffs = db.session.scalars(select(GovernmentTariff).order_by(
        GovernmentTariff.category_code, GovernmentTariff.region_prefix,
        GovernmentTariff.valid_from.desc())).all()
    return render_template("prices/admin.html", runs=recent, run_form=run_form,
                           tariff_form=tariff_form, tariffs=tariffs,
                           releases=queries.releases()), status


@bp.get("/prices")
def prices():
    return _page(RunForm(), TariffForm())


@bp.post("/prices/runs")
def request_price_run():
    form = RunForm()
    if not form.validate_on_submit():
        return _page(form, TariffForm(), 422)
    try:
        run = runs.request_run(current_user, form.month.data, form.release.data)
    except ValidationFailed as exc:
        getattr(form, exc.field or "month").errors = [exc.message]
        return _page(form, TariffForm(), 422)
    flash(_("Publication requested; its progress shows below."), "success")
    return redirect(url_for("admin.prices", run=run.id))


def _run_json(run: PublicationRun) -> dict:
    return {"id": run.id, "status": run.status, "progress": run.progress, "message": run.message,
            "month": f"{run.reference_month:%Y-%m}", "release": run.release}


@bp.get("/prices/run-status")
def price_run_status():
    """Polled by static/prices/admin.js: ?run=ID → its status and progress; without a run, the
    twenty latest runs."""
    raw = request.args.get("run")
    if raw is None:
        return jsonify({"runs": [_run_json(r) for r in db.session.scalars(
            select(PublicationRun).order_by(PublicationRun.id.desc()).limit(20))]})
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(_("Name a run."), field="run")
    return jsonify(_run_json(runs.run_status(int(raw))))


@bp.post("/prices/tariffs")
def add_tariff():
    form = TariffForm()
    if not form.validate_on_submit():
        return _page(RunForm(), form, 422)
    try:
        set_tariff(current_user, category_code=form.category_code.data,
                   region_prefix=form.region_prefix.data,
                   unit_price_fen_per_t=form.price_fen(), valid_from=form.valid_from.data or date.today(),
                   source=form.source.data or "")
    except ValidationFailed as exc:
        field = {"unit_price_fen_per_t": "price_yuan"}.get(exc.field, exc.field)
        getattr(form, field or "category_code").errors = [exc.message]
        return _page(RunForm(), form, 422)
    flash(_("Tariff recorded."), "success")
    return redirect(url_for("admin.prices"))
