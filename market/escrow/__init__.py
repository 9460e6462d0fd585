"""Escrow (DESIGN.md §6): funding orders, holding the money in the ledger, releasing and refunding
it, disputes, and the bank and Stripe gateways behind one interface."""
