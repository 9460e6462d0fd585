"""Listings: disposal requests, storefront offers, quotes, capacity and matching."""
