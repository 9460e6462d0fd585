"""The web layer wired into an app: extensions, error mapping, security, i18n and every blueprint.

Only the application factory (market/__init__.py) imports this module, so it may import every
view at module level without taking part in an import cycle.
"""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from market.accounts.views import bp as accounts_bp
from market.admin.views import bp as admin_bp
from market.api import bp as api_bp
from market.api.docs import docs_bp as api_docs_bp
from market.catalog.views import bp as catalog_bp
from market.collection.views import bp as collection_bp
from market.contracts.views import bp as contracts_bp
from market.escrow.views import bp as escrow_bp
from market.escrow.views import stripe_webhook
from market.finance.views import bp as finance_bp
from market.finance.reconciliation_views import bp as reconciliation_bp
from market.listings.import_views import bp as imports_bp
from market.listings.quote_views import bp as quotes_bp
from market.listings.shop_views import bp as shops_bp
from market.listings.views import bp as listings_bp
from market.manifests.views import bp as manifests_bp
from market.notifications.views import bp as notifications_bp
from market.orders.views import bp as orders_bp
from market.prices import admin_views as _price_admin_views  # noqa: F401  (routes on admin bp)
from market.prices.views import bp as prices_bp
from market.reviews.views import bp as reviews_bp
from market.oversight.views import bp as oversight_bp
from market.sampling.views import bp as sampling_bp
from market.settlement import account_review_views as _account_reviews  # noqa: F401  (admin bp)
from market.settlement.payout_views import bp as payouts_bp
from market.settlement.statement_views import bp as statements_bp
from market.settlement.views import bp as settlement_bp
from market.web import headers, i18n, inputs, security
from market.web.errors import register_error_handlers
from market.web.health import bp as health_bp
from market.web.limiter import limiter
from market.web.pages import bp as pages_bp
from market.webhooks.views import bp as webhooks_bp

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    trust_proxies(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    headers.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    register_error_handlers(app)
    inputs.init_app(app)  # before the blueprints: their routes use its `int` converter
    register_blueprints(app)


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_COUNT reverse proxies, take the client's address and scheme from
    their X-Forwarded-For/-Proto, so rate limits, the audit log and signatures see the real client.
    Without it those headers are ignored: anyone can send them."""
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register_blueprints(app: Flask) -> None:
    """Every blueprint of the application, in one list."""
    for bp in (pages_bp, accounts_bp, admin_bp, notifications_bp, health_bp, listings_bp, quotes_bp,
               shops_bp, orders_bp, escrow_bp, finance_bp, sampling_bp, contracts_bp,
               manifests_bp, settlement_bp, payouts_bp, reviews_bp, statements_bp, prices_bp,
               reconciliation_bp, oversight_bp, webhooks_bp, api_docs_bp, imports_bp,
               collection_bp, catalog_bp):
        app.register_blueprint(bp)
    csrf.exempt(stripe_webhook)  # Stripe signs its requests; there is no session to forge
    csrf.exempt(api_bp)  # bearer tokens, not cookies: CSRF does not apply
    app.register_blueprint(api_bp)
