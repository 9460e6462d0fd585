"""The /api/v1 JSON API (DESIGN.md §9)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from market.api import views  # noqa: E402,F401  (registers the routes on bp)
