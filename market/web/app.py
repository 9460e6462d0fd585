"""The web layer wired into an app: extensions, error mapping, security, i18n and every blueprint.

Only the application factory (market/__init__.py) imports this module, so it may import every
view at module level without taking part in an import cycle.
"""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from market.accounts.views import bp as accounts_bp
from market.admin.views import bp as admin_bp
from market.api import bp as api_bp
from market.collection.views import bp as collection_bp
from market.contracts.views import bp as contracts_bp
from market.escrow.views import bp as escrow_bp
from market.escrow.views import stripe_webhook
from market.finance.views import bp as finance_bp
from market.listings.quote_views import bp as quotes_bp
from market.listings.shop_views import bp as shops_bp
from market.listings.views import bp as listings_bp
from market.manifests.views import bp as manifests_bp
from market.notifications.views import bp as notifications_bp
from market.orders.views import bp as orders_bp
from market.sampling.views import bp as sampling_bp
from market.settlement.views import bp as settlement_bp
from market.web import i18n, security
from market.web.errors import register_error_handlers
from market.web.health import bp as health_bp
from market.web.limiter import limiter
from market.web.pages import bp as pages_bp

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    register_error_handlers(app)
    register_blueprints(app)


def register_blueprints(app: Flask) -> None:
    """Every blueprint of the application, in one list."""
    for bp in (pages_bp, accounts_bp, admin_bp, notifications_bp, health_bp, listings_bp, quotes_bp,
               shops_bp, orders_bp, escrow_bp, finance_bp, sampling_bp, contracts_bp,
               manifests_bp, settlement_bp, collection_bp):
        app.register_blueprint(bp)
    csrf.exempt(stripe_webhook)  # Stripe signs its requests; there is no session to forge
    csrf.exempt(api_bp)  # bearer tokens, not cookies: CSRF does not apply
    app.register_blueprint(api_bp)
