"""Typed errors of settlement; market.web.errors maps them to 403/409/422 for HTML and JSON."""
from __future__ import annotations

from market.errors import Conflict, InvalidState


class NotReadyToSettle(InvalidState):
    """Settlement waits for every manifest to be received and every discrepancy to be closed."""
    code = "not_ready_to_settle"


class CertificateAlreadyUploaded(Conflict):
    """The disposal certificate of an order is uploaded once."""
    code = "certificate_uploaded"
