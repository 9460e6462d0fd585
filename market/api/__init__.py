"""The /api/v1 JSON API (DESIGN.md §9)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from market.api import auth  # noqa: E402

bp.record_once(auth.install)

# Importing the view modules registers their routes on bp.
from market.api import (catalog, collection, contracts, escrow, feeds,  # noqa: E402,F401
                        finance, imports, limits, listings, manifests, openapi, orders, payouts,
                        prices, reconciliation, regulator, reviews, sampling, settlement, views,
                        webhooks)
