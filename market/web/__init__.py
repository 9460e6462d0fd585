"""Web layer: extensions, blueprint registry, error mapping, security, i18n."""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_web(app: Flask) -> None:
    from market.web import i18n, security
    from market.web.errors import register_error_handlers
    from market.web.limiter import limiter

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
    from market.accounts.views import bp as accounts_bp
    from market.admin.views import bp as admin_bp
    from market.api import bp as api_bp
    from market.notifications.views import bp as notifications_bp
    from market.web.health import bp as health_bp
    from market.web.pages import bp as pages_bp

    for bp in (pages_bp, accounts_bp, admin_bp, notifications_bp, health_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # bearer tokens, not cookies: CSRF does not apply
    app.register_blueprint(api_bp)
