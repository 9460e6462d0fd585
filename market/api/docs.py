"""The API reference page: /api/docs renders /api/v1/openapi.json with Redoc, vendored in
static/vendor/redoc (no CDN, no inline script: Redoc starts itself from the <redoc> element)."""
from __future__ import annotations

from flask import Blueprint, render_template

docs_bp = Blueprint("api_docs", __name__)

# Scripts only from this site; Redoc's own styles are injected at run time and its search runs in a
# worker it builds from a blob.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; worker-src 'self' blob:; font-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@docs_bp.get("/api/docs")
def docs():
    resp = render_template("api/docs.html")
    return resp, 200, {"Content-Security-Policy": CSP}
