"""Security headers on every response, in one place (issue 9, item 8).

Pages: a Content-Security-Policy without inline script (page scripts live in static/js), no
framing, no MIME sniffing, a same-origin Referer, no powerful browser features, HSTS in
production. Anything shown to a logged-in user, and every document, is never stored by a cache.
Downloads (Content-Disposition: attachment) get a policy that runs nothing at all.
"""
from __future__ import annotations

import functools

from flask import Flask, g, request, session

STRIPE_JS = "https://js.stripe.com"

DOCUMENT_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), usb=(), payment=()"
HSTS = "max-age=31536000; includeSubDomains"


def page_csp(stripe: bool) -> str:
    """The policy of every HTML page; Stripe's own script and frames only when it takes payments."""
    script = f"'self' {STRIPE_JS}" if stripe else "'self'"
    frames = f"{STRIPE_JS} https://hooks.stripe.com" if stripe else "'none'"
    connect = "'self' https://api.stripe.com" if stripe else "'self'"
    return (f"default-src 'self'; script-src {script}; style-src 'self'; img-src 'self' data:; "
            f"font-src 'self'; connect-src {connect}; frame-src {frames}; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# ECharts (static/vendor/echarts) positions and colours its tooltips with style attributes. Pages
# that draw charts allow those, and nothing else: scripts and <style> elements stay 'self'.
CHART_STYLE_ATTRIBUTES = "; style-src-attr 'unsafe-inline'"


def draws_charts(view):
    """Mark a view whose page draws ECharts charts (its policy allows style attributes)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.draws_charts = True
        return view(*args, **kwargs)
    return wrapped


def _is_attachment(response) -> bool:
    return response.headers.get("Content-Disposition", "").startswith("attachment")


def _authenticated() -> bool:
    """A login cookie or a bearer token came with the request (no database needed to tell)."""
    return "_user_id" in session or g.get("api_user") is not None


def init_app(app: Flask) -> None:
    csp = page_csp(app.config["PAYMENT_GATEWAY"] == "stripe")
    production = app.config["HAZEX_ENV"] == "production"

    @app.after_request
    def security_headers(response):
        h = response.headers
        attachment = _is_attachment(response)
        # A sandboxed policy would stop the browser's PDF viewer, so only downloads get it. A page
        # that needs its own policy (the API reference's Redoc) sets it in its view.
        if attachment:
            h["Content-Security-Policy"] = DOCUMENT_CSP
        else:
            h.setdefault("Content-Security-Policy",
                         csp + CHART_STYLE_ATTRIBUTES if g.get("draws_charts") else csp)
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "same-origin"
        h["Permissions-Policy"] = PERMISSIONS_POLICY
        if production:
            h["Strict-Transport-Security"] = HSTS
        if request.endpoint != "static" and (attachment or _authenticated()
                                           or response.mimetype == "application/pdf"):
            h["Cache-Control"] = "no-store"
            h.pop("Expires", None)
        return response
