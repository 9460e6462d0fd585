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
