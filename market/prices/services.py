"""Use cases of the price index: publish a release, ask for a run, keep government tariffs.

A publication is built from every settled line received up to its reference month, in one
transaction: observations into a temporary table, the methodology in PostgreSQL and pricing/
(market/prices/aggregate.py), then the publication row, its cells and an audit event. Publishing a
month again with the same inputs and parameters returns the version already stored; with
different ones it stores a new version flagged as a revision, so no number changes silently and
every version stays readable.
"""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, text, update

from market import db
from market.accounts.models import User
from market.audit.services import record
from market.db import utcnow
from market.errors import NotFound, ValidationFailed
from market.prices import calendar as cal
from market.prices import observations
from market.prices.aggregate import aggregate, p5_floors
from market.prices.models import (RELEASES, GovernmentTariff, PriceCell, PricePublication,
                                  PublicationRun)
from market.prices.serialise import index_json, outliers_json, quality_json
from market.uow import transaction
from pricing import Config

_LOCK = 0x48617a50   # advisory lock id: one publication at a time


def pricing_config() -> Config:
    return Config(excluded_categories=frozenset(current_app.config["GOVERNMENT_PRICED_CATEGORIES"]))


def _progress(run_id: int | None, pct: int, message: str, status: str = "running") -> None:
    """Progress of a run, committed at once on its own connection so the admin page sees it."""
    if run_id is None:
        return
    with db.engine().begin() as conn:
        conn.execute(update(PublicationRun).where(PublicationRun.id == run_id)
                     .values(progress=pct, message=message, status=status))


def publish(reference_month: date, release: str = "preliminary", *, actor: User | None = None,
            run_id: int | None = None) -> PricePublication:
    """Publish (or find) the release of a month."""
    if release not in RELEASES:
        raise ValidationFailed(_("Choose one of: %(choices)s.", choices=", ".join(RELEASES)),
                               field="release")
    month = cal.month_start(reference_month)
    config = pricing_config()
    with transaction() as s:
        conn = s.connection()
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        _progress(run_id, 5, "observations")
        rel = observations.load(conn, month)
        result = aggregate(conn, rel, config, lambda pct, what: _progress(run_id, pct, what))
        floors = p5_floors(conn, rel, cal.add_months(month, -11), month, config.excluded_categories)
        last = s.scalar(select(PricePublication).where(PricePublication.reference_month == month)
                        .order_by(PricePublication.version.desc()).limit(1))
        same = last is not None and last.inputs_hash == result.inputs_hash \
            and last.params_hash == result.params_hash
        if same and (last.release == release or last.release == "final"):
            return last
        pub = PricePublication(
            reference_month=month, version=(last.version + 1) if last else 1, release=release,
            revised=last is not None and not same,
            methodology_version=result.methodology_version, params_hash=result.params_hash,
            inputs_hash=result.inputs_hash, quality=quality_json(result.quality),
            index_series=index_json(result.index), floors=floors,
            outliers=outliers_json(result.outliers), created_by_id=getattr(actor, "id", None))
        s.add(pub)
        s.flush()
        rows = []
        for key, d in result.disclosure.items():
            st = result.stats[key] if d.published else None
            rows.append(dict(
                publication_id=pub.id, period=key.period, category=key.category,
                method=key.method, region=key.region, status=d.status,
                trades=st and st.trades, kg=st and st.kg, vwap=st and st.vwap,
                median=st and st.median, p10=st and st.p10, p25=st and st.p25,
                p75=st and st.p75, p90=st and st.p90,
                nearest_published=str(d.nearest_published) if d.nearest_published else None))
        if rows:
            s.execute(insert(PriceCell), rows)
        record("price.published", pub, actor=actor, changes={
            "label": pub.label, "release": release, "inputs_hash": pub.inputs_hash,
            "cells": len(rows), "observations": result.quality.observations})
        if run_id is not None:
            s.execute(update(PublicationRun).where(PublicationRun.id == run_id).values(
                status="done", progress=100, message=pub.label, publication_id=pub.id,
                finished_at=utcnow()))
        return pub


def run_failed(run_id: int, message: str) -> None:
    with db.engine().begin() as conn:
        conn.execute(update(PublicationRun).where(PublicationRun.id == run_id).values(
            status="failed", message=message[:500], finished_at=func.now()))


def set_tariff(actor: User | None, *, category_code: str, region_prefix: str,
               unit_price_fen_per_t: int, valid_from: date, source: str = "") -> GovernmentTariff:
    """Record the tariff of a government-priced category in a region from a date."""
    with transaction() as s:
        if category_code not in current_app.config["GOVERNMENT_PRICED_CATEGORIES"]:
            raise ValidationFailed(_("%(c)s is not a government-priced category.", c=category_code),
                                   field="category_code")
        if not (region_prefix.isdigit() and len(region_prefix) in (2, 4, 6)):
            raise ValidationFailed(_("Region prefix %(p)s must have 2, 4 or 6 digits.",
                                     p=region_prefix), field="region_prefix")
        if type(unit_price_fen_per_t) is not int or unit_price_fen_per_t < 0:
            raise ValidationFailed(_("Amounts are whole numbers of fen."),
                                   field="unit_price_fen_per_t")
        tariff = GovernmentTariff(category_code=category_code, region_prefix=region_prefix,
                                  unit_price_fen_per_t=unit_price_fen_per_t,
                                  valid_from=valid_from, source=source[:300])
        s.add(tariff)
        s.flush()
        record("tariff.set", tariff, actor=actor, changes={
            "category_code": category_code, "region_prefix": region_prefix,
            "unit_price_fen_per_t": unit_price_fen_per_t, "valid_from": valid_from.isoformat()})
        return tariff


def publication_or_404(month: date, version: int) -> PricePublication:
    pub = db.session.scalar(select(PricePublication).where(
        PricePublication.reference_month == month, PricePublication.version == version))
    if pub is None:
        raise NotFound(_("No such release."))
    return pub
