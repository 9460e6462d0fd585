"""Messages that reach gettext only at run time, listed here so `pybabel extract` finds them.

Never imported. The code passes these strings to `_()` as variables — policy reasons in
market/accounts/policies.py (`_(str(exc))` in services.py, `_(problem)` in licences.py) and
status, action, organisation-type and document words — so the extractor cannot see them. Keeping
them in this file (matched by `[python: market/**.py]` in babel.cfg) makes them part of
messages.pot, so `pybabel update` keeps their translations instead of marking them obsolete.
tests/unit/test_translations.py checks that every reason policies.py can return is translated.
"""


def _(message: str) -> str:  # extraction marker only
    return message


# Reasons from market/accounts/policies.py, passed through _() in market/accounts/services.py
# ("Unified social credit code %(reason)s.") and market/accounts/licences.py (_(problem)).
_("must be 18 characters")
_("contains characters a credit code cannot have")
_("check character does not match (GB 32100-2015)")
_("contains an invalid component")
_("is not a valid unified social credit code")
_("kind must be comprehensive or collection")
_("valid to must not be before valid from")
_("a comprehensive licence runs at most 5 years")  # LICENCE_KINDS["comprehensive"]
_("a collection licence runs at most 3 years")  # LICENCE_KINDS["collection"]

# Statuses (DOC_STATUSES and organisation statuses), passed as _(org.status) / _(doc.status).
_("pending")
_("verified")
_("rejected")
_("suspended")

# Organisation decisions, passed as _(action) in market/accounts/services.py.
_("verify")
_("reject")
_("suspend")
_("reinstate")

# Document types (table names), passed as _(doc_type) / _(model.__tablename__).
_("licence")
_("permit")

# Organisation types (ORG_TYPES), passed as _(org_type) / _l(t).
_("generator")
_("operator")
_("carrier")
_("lab")

# Order statuses (ORDER_STATUSES in market/orders/state.py), passed as _(order.status) / _(to)
# in market/orders/services.py.
_("created")
_("sampling")
_("price_confirmed")
_("contract_pending")
_("contract_signed")
_("funding")
_("funded")
_("in_transfer")
_("received")
_("settled")
_("closed")
_("cancelled")
_("disputed")
_("resolved")

# Disposal-request and quote statuses (REQUEST_STATUSES, QUOTE_STATUSES in
# market/listings/models.py), passed as _(req.status) / _(to) in market/listings/services.py.
# "rejected", "cancelled" and "expired" are listed above or extracted from templates.
_("draft")
_("open")
_("awarded")
_("submitted")
_("withdrawn")
_("accepted")
_("expired")

# Manifest, discrepancy and provincial-report statuses and words (market/manifests/state.py,
# models.py), passed as _(manifest.status) / _(to) / _(part) / _(report.status) / _(r.event).
# "draft", "received", "closed", "cancelled", "open", "disputed", "resolved", "pending",
# "generator" and "carrier" are listed above.
_("shipped")
_("confirmed")
_("sent")
_("failed")
_("receiver")

# Publication run statuses (market/prices/models.py RUN_STATUSES), passed as _(run.status) on the
# administrators' price page; "queued" and "failed" are listed above.
_("running")
_("done")
# Reconciliation: exception kinds, resolutions and day statuses (templates/finance/reconciliation).
_("unmatched_line")
_("unmatched_entry")
_("amount_mismatch")
_("overpayment")
_("balance_difference")
_("manual_match")
_("adjustment")
_("suspense_refund")
_("waiting")
_("balanced")
_("different")
_("signed_off")
# Webhook delivery statuses (market/webhooks/models.py DELIVERY_STATUSES), shown as _(d.status).
_("delivered")
# Collection round and booking statuses (market/collection/state.py), passed as _(status).
_("published")
_("started")
_("picked_up")
_("no_show")
_("awaiting_payment")
_("booked")
_("topup_due")

# Platform roles (market/accounts/staff.py ROLE_WORDS), stored as words in notifications.
_("platform administrator")
_("platform finance")
_("no platform role")

# Labels of audit-log change keys (market/audit/summary.py KEY_LABELS).
_('Accepted')
_('Address')
_('Amount')
_('Carrier')
_('Categories')
_('Category')
_('Comment')
_('Fee')
_('File')
_('From')
_('Gateway')
_('Generator')
_('Kind')
_('Laboratory')
_('Language')
_('Marked')
_('Method')
_('Name')
_('Note')
_('Number')
_('Operator')
_('Order')
_('Organisation name')
_('Payee')
_('Payer')
_('Quantity')
_('Reason')
_('Received')
_('Reference')
_('Refunded')
_('Refused')
_('Region')
_('Sent')
_('Split')
_('Status')
_('To')
_('Total')
_('Transport fee')
_('Types')
_('Unified social credit code')
_('Unit price per t')
_('Valid from')
_('Valid to')
_('Vehicle plate')
_('Version')
_('Waste code')
_('Weighed')
_('Window end')
_('Window start')

# Object types and action areas in the audit log (market/audit/summary.py OBJECT_LABELS).
_('API token')
_('Booking')
_('Cancellation')
_('Card payment')
_('Card payment event')
_('Catalogue')
_('Change request')
_('Collection')
_('Collection round')
_('Collection trip')
_('Contract')
_('Contract document')
_('Contract revision')
_('Contract version')
_('Demo')
_('Dispute')
_('Escrow')
_('Funding request')
_('Invitation')
_('Licence')
_('Licence item')
_('Licensed capacity')
_('Manifest')
_('Manifest discrepancy')
_('Notification')
_('Offer')
_('Order line')
_('Oversight alert')
_('Payout')
_('Payout account')
_('Permit')
_('Price index')
_('Provincial report')
_('Quote')
_('Receipt')
_('Reconciliation')
_('Request')
_('Review')
_('Sampling')
_('Sanction')
_('Session')
_('Settlement')
_('Tariff')
_('User')
_('Webhook')

# Ledger account names (market/ledger/names.py FIXED).
_("Bank clearing")
_("Card payments clearing (Stripe)")
_("Suspense — bank transfers")
_("Suspense — card payments")
_("Platform fee revenue")
_("Payment gateway fees")
