"""Double-entry ledger in integer fen (DESIGN.md §6); PostgreSQL enforces its invariants.

Imports nothing from other contexts. post() is the only writer; balances derive from postings.
"""
from market.ledger.codes import KINDS, AccountCode, parse_code
from market.ledger.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from market.ledger.queries import (PostingLine, TrialBalance, account_postings, balance, balances,
                                   entry_lines, paid_out_credits, posting_lines,
                                   postings_query, trial_balance)
from market.ledger.services import PostedEntry, account, post, reverse

__all__ = ["KINDS", "AccountCode", "parse_code", "AlreadyReversed", "IdempotencyConflict",
           "InsufficientFunds", "PostingLine", "TrialBalance", "account_postings", "balance",
           "balances", "entry_lines", "paid_out_credits", "posting_lines", "postings_query",
           "trial_balance", "PostedEntry", "account", "post",
           "reverse"]
