"""Reconciliation: bank and PSP statements imported, matched to the ledger, exceptions resolved,
days closed and signed off (DESIGN.md §6: clearing:G equals the provider's statement balance)."""
