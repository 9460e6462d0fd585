"""Reviews: after settlement each party of an order rates the other, once (DESIGN.md §9)."""
