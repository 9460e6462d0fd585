"""Finance staff's workspace: receipts to confirm, suspense, the ledger browser, trial balance.

The use cases live in market.escrow (receipts, suspense) and market.ledger (reads); this context
holds only the pages.
"""
