"""Hazex: the hazardous-waste exchange. create_app() is the application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from market.config import ROOT, load_config


def create_app(config: dict | None = None, **overrides) -> Flask:
    """Build the Flask application: config, extensions, blueprints, errors, CLI, jobs."""
    settings = load_config({**(config or {}), **overrides})
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), instance_path=settings["INSTANCE_PATH"],
                instance_relative_config=False)
    app.config.update(settings)
    _resolve_services(app)

    from market import db
    db.init_app(app)
    _import_models()

    from market.web.app import init_web
    init_web(app)

    from market.webhooks.sources import install as install_webhook_sources
    install_webhook_sources()

    from market.cli import register_cli
    register_cli(app)
    return app


def _resolve_services(app: Flask) -> None:
    """Use DATABASE_URL / REDIS_URL when given; otherwise start the embedded servers."""
    instance = Path(app.config["INSTANCE_PATH"])
    if _managing_services():
        return
    if not app.config.get("DATABASE_URL") or not app.config.get("REDIS_URL"):
        if app.config["HAZEX_ENV"] == "production":
            raise RuntimeError("production needs DATABASE_URL and REDIS_URL")
        from market import embedded
        if not app.config.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = embedded.start_postgres(instance)
        if not app.config.get("REDIS_URL"):
            app.config["REDIS_URL"] = embedded.start_redis(instance)


def _managing_services() -> bool:
    """True under `flask services …`, which must not start what it is asked to stop."""
    import sys
    return Path(sys.argv[0]).name == "flask" and "services" in sys.argv[1:]


def _import_models() -> None:
    """Import every context's models so the metadata and mappers are complete."""
    import market.accounts.models  # noqa: F401
    import market.api.models  # noqa: F401
    import market.audit.models  # noqa: F401
    import market.catalog.models  # noqa: F401
    import market.collection.models  # noqa: F401
    import market.escrow.dispute_models  # noqa: F401
    import market.escrow.models  # noqa: F401
    import market.contracts.models  # noqa: F401
    import market.jobs.models  # noqa: F401
    import market.listings.models  # noqa: F401
    import market.manifests.models  # noqa: F401
    import market.reconciliation.models  # noqa: F401
    import market.ledger.models  # noqa: F401
    import market.notifications.models  # noqa: F401
    import market.orders.models  # noqa: F401
    import market.oversight.models  # noqa: F401
    import market.reviews.models  # noqa: F401
    import market.prices.models  # noqa: F401
    import market.sampling.models  # noqa: F401
    import market.settlement.models  # noqa: F401
    import market.settlement.payout_models  # noqa: F401
    import market.webhooks.models  # noqa: F401
