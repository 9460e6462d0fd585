"""Read side of payouts for finance: the payout queue (owed, in a batch, returned) and batches."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from market import db, ledger
from market.escrow.models import Payout
from market.settlement import batches
from market.settlement.payout_models import PayoutBatch, PayoutBatchLine


@dataclass
class Owed:
    org_id: int
    name: str
    owed_fen: int
    state: str          # due | below_minimum | no_verified_account | on_the_way
    gateway: str = ""


@dataclass
class Queue:
    minimum_fen: int
    owed: list[Owed] = field(default_factory=list)
    due_fen: int = 0
    in_batch_fen: int = 0
    in_batch_count: int = 0
    returned: list[PayoutBatchLine] = field(default_factory=list)

    @property
    def returned_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.returned)

    def as_json(self) -> dict:
        return {"minimum_fen": self.minimum_fen, "due_fen": self.due_fen,
                "in_batch_fen": self.in_batch_fen, "in_batch_count": self.in_batch_count,
                "returned_fen": self.returned_fen,
                "owed": [{"org_id": o.org_id, "name": o.name, "owed_fen": o.owed_fen,
                          "state": o.state, "gateway": o.gateway} for o in self.owed],
                "returned": [{"line_id": ln.id, "batch_id": ln.batch_id, "org_id": ln.org_id,
                              "reference": ln.reference, "amount_fen": ln.amount_fen,
                              "reason": ln.return_reason} for ln in self.returned]}


def _sent() -> tuple[int, int]:
    row = db.session.execute(
        select(func.coalesce(func.sum(PayoutBatchLine.amount_fen), 0), func.count())
        .join(Payout, Payout.id == PayoutBatchLine.payout_id)
        .where(batches.on_its_way())).one()
    return int(row[0]), int(row[1])


def queue(returned_limit: int = 50) -> Queue:
    """Who is owed what and whether the next batch pays it; what is out; what came back."""
    lines, skipped = batches.plan()
    due = {org_id: gateway for org_id, gateway, _fen, _acc in lines}
    owed = {int(code.split(":", 1)[1]): fen
            for code, fen in ledger.balances("payable:").items() if fen > 0}
    names = batches.org_names(owed)
    out = Queue(minimum_fen=batches.minimum_fen())
    for org_id, fen in sorted(owed.items(), key=lambda kv: (-kv[1], kv[0])):
        state = "due" if org_id in due else skipped.get(org_id, "on_the_way")
        out.owed.append(Owed(org_id, names.get(org_id, f"#{org_id}"), fen, state,
                             due.get(org_id, "")))
    out.due_fen = sum(fen for _o, _g, fen, _a in lines)
    out.in_batch_fen, out.in_batch_count = _sent()
    out.returned = list(db.session.scalars(
        select(PayoutBatchLine).where(PayoutBatchLine.status == "returned")
        .order_by(PayoutBatchLine.returned_at.desc(), PayoutBatchLine.id.desc())
        .limit(returned_limit)))
    return out


def line_status(line: PayoutBatchLine, payout: Payout | None) -> str:
    """A line's status as finance sees it: a Connect transfer is `queued` until the job ran,
    `paid` once Stripe made it (the money is in the connected account) and `failed` if Stripe
    refused it for good."""
    if line.gateway == "stripe" and payout is not None and line.status == "sent":
        return {"pending": "queued", "failed": "failed", "executed": "paid"}[payout.status]
    return line.status


def batch_json(batch: PayoutBatch) -> dict:
    payouts = batches.payouts_of(batch.lines)
    names = batches.org_names(ln.org_id for ln in batch.lines)
    return {"id": batch.id, "sent_at": batch.sent_at.isoformat(),
            "minimum_fen": batch.minimum_fen, "total_fen": batch.total_fen,
            "line_count": batch.line_count, "file_name": batch.file_name,
            "lines": [{"id": ln.id, "org_id": ln.org_id, "organisation": names.get(ln.org_id),
                       "gateway": ln.gateway, "amount_fen": ln.amount_fen,
                       "reference": ln.reference, "account_number": ln.masked,
                       "status": line_status(ln, payouts.get(ln.payout_id)),
                       "transfer_id": (payouts[ln.payout_id].external_id
                                       if ln.gateway == "stripe" and ln.payout_id in payouts
                                       else None),
                       "paid_at": ln.paid_at.isoformat() if ln.paid_at else None,
                       "returned_at": ln.returned_at.isoformat() if ln.returned_at else None,
                       "return_reason": ln.return_reason} for ln in batch.lines]}
